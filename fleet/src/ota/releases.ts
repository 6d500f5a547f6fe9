import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkValue,
  decodeManifestBody,
  type ReleaseManifest,
  type ReleasePublish,
  type SignedManifest,
  TrustedKeys,
} from '@shouwang/protocol';
import { writeFileAtomic } from '../registry/atomic-file.ts';
import type { OtaStore } from '../storage/ota-store.ts';
import type { OtaArtifactRow, OtaReleaseRow } from '../storage/schema.ts';

export type ReleaseErrorCode =
  | 'KEY_UNKNOWN'
  | 'KEY_RETIRED'
  | 'SIGNATURE_INVALID'
  | 'MANIFEST_INVALID'
  | 'ARTIFACT_MISSING'
  | 'ARTIFACT_UNKNOWN'
  | 'ARTIFACT_MISMATCH'
  | 'RELEASE_EXISTS'
  | 'NOT_FOUND';

/** A release refused, with a code a maintainer's CLI can switch on and the part that failed. */
export class ReleaseError extends Error {
  readonly code: ReleaseErrorCode;
  readonly path: string | undefined;
  constructor(code: ReleaseErrorCode, message: string, path?: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

interface TrustedKey {
  key: KeyObject;
  retired: boolean;
}

/** Reads a TrustedKeys document (the file the units carry too): every key must parse. */
export function parseTrustedKeys(doc: unknown): Map<string, TrustedKey> {
  const r = checkValue(TrustedKeys, doc);
  if (!r.ok) throw new Error(`trusted keys: ${r.error.message} at ${r.error.path ?? '/'}`);
  const out = new Map<string, TrustedKey>();
  for (const k of r.value.keys) {
    const x = Buffer.from(k.publicKey, 'base64').toString('base64url');
    out.set(k.id, { key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), retired: k.retired === true });
  }
  return out;
}

/**
 * The signature over the body's exact bytes, by a key the fleet trusts and has not retired, then the
 * body read. The same rules the unit applies: a release the fleet accepts is one a unit will accept.
 */
export function verifySignedManifest(m: SignedManifest, keys: ReadonlyMap<string, TrustedKey>): ReleaseManifest {
  const k = keys.get(m.keyId);
  if (!k) throw new ReleaseError('KEY_UNKNOWN', `signed with ${m.keyId}, a key the fleet does not trust`, '/manifest/keyId');
  if (k.retired) throw new ReleaseError('KEY_RETIRED', `signed with ${m.keyId}, a retired key`, '/manifest/keyId');
  if (!verify(null, Buffer.from(m.body, 'utf8'), k.key, Buffer.from(m.signature, 'base64')))
    throw new ReleaseError('SIGNATURE_INVALID', `the signature does not match the manifest under key ${m.keyId}`, '/manifest/signature');
  const body = decodeManifestBody(m.body);
  if (!body.ok) throw new ReleaseError('MANIFEST_INVALID', body.error.message, `/manifest/body${body.error.path ?? ''}`);
  return body.value;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Names and checks a release names, the full bundle first. */
function namedArtifacts(m: ReleaseManifest): { name: string; size: number; sha256: string; from: string | null }[] {
  return [{ ...m.full, from: null }, ...m.deltas.map((d) => ({ name: d.name, size: d.size, sha256: d.sha256, from: d.from }))];
}

export interface ReleaseView {
  version: string;
  keyId: string;
  publishedAt: number;
  publishedBy: string;
  manifest: ReleaseManifest;
  artifacts: { name: string; from: string | null; size: number; sha256: string }[];
}

/**
 * The releases registry: a release is accepted only when its manifest is signed by a trusted,
 * unretired key and every artifact it names is uploaded with the size and hash it states; the
 * artifacts are kept as files under `<dir>/<version>/` and served by name with Range support.
 */
export class Releases {
  readonly #store: OtaStore;
  readonly #keys: ReadonlyMap<string, TrustedKey>;
  readonly #dir: string;
  readonly #now: () => number;

  constructor(o: { store: OtaStore; keys: ReadonlyMap<string, TrustedKey>; dir: string; now: () => number }) {
    this.#store = o.store;
    this.#keys = o.keys;
    this.#dir = o.dir;
    this.#now = o.now;
  }

  async publish(p: ReleasePublish, actor: string): Promise<ReleaseView> {
    const m = verifySignedManifest(p.manifest, this.#keys);
    const named = namedArtifacts(m);
    const uploaded = new Map(p.artifacts.map((a, i) => [a.name, { data: Buffer.from(a.data, 'base64'), i }]));
    for (const a of p.artifacts)
      if (!named.some((n) => n.name === a.name))
        throw new ReleaseError('ARTIFACT_UNKNOWN', `${a.name} is not named by the manifest`, `/artifacts/${uploaded.get(a.name)?.i}`);
    for (const n of named) {
      const u = uploaded.get(n.name);
      if (!u) throw new ReleaseError('ARTIFACT_MISSING', `the manifest names ${n.name}, which was not uploaded`, '/artifacts');
      if (u.data.length !== n.size || sha256(u.data) !== n.sha256)
        throw new ReleaseError(
          'ARTIFACT_MISMATCH',
          `${n.name}: ${u.data.length} bytes, sha256 ${sha256(u.data).slice(0, 12)}…, not the manifest's ${n.size} bytes, ${n.sha256.slice(0, 12)}…`,
          `/artifacts/${u.i}`,
        );
    }
    if (await this.#store.getRelease(m.version)) throw new ReleaseError('RELEASE_EXISTS', `release ${m.version} is published already`);
    // Files first: a release row never points at an artifact that is not on disk.
    const dir = join(this.#dir, m.version);
    await mkdir(dir, { recursive: true });
    for (const n of named) await writeFileAtomic(join(dir, n.name), (uploaded.get(n.name) as { data: Buffer }).data, 0o644);
    const row: OtaReleaseRow = {
      version: m.version,
      manifest: p.manifest.body,
      signature: p.manifest.signature,
      key_id: p.manifest.keyId,
      size: m.bundle.size,
      sha256: m.bundle.sha256,
      published_at: this.#now(),
      published_by: actor,
    };
    const artifacts: OtaArtifactRow[] = named.map((n) => ({
      id: `${m.version}/${n.name}`,
      version: m.version,
      from_version: n.from,
      size: n.size,
      sha256: n.sha256,
    }));
    if (!(await this.#store.insertRelease(row, artifacts)))
      throw new ReleaseError('RELEASE_EXISTS', `release ${m.version} is published already`);
    return this.#view(row, artifacts);
  }

  async get(version: string): Promise<ReleaseView> {
    const row = await this.#store.getRelease(version);
    if (!row) throw new ReleaseError('NOT_FOUND', `no release ${version}`);
    return this.#view(row, await this.#store.artifacts(version));
  }

  async list(): Promise<ReleaseView[]> {
    const rows = await this.#store.listReleases();
    return Promise.all(rows.map(async (r) => this.#view(r, await this.#store.artifacts(r.version))));
  }

  /** The signed manifest as published, for a job. */
  async signed(version: string): Promise<SignedManifest> {
    const row = await this.#store.getRelease(version);
    if (!row) throw new ReleaseError('NOT_FOUND', `no release ${version}`);
    return { body: row.manifest, keyId: row.key_id, signature: row.signature };
  }

  /** An artifact's file and size, for serving; undefined when the release does not name it. */
  async file(version: string, name: string): Promise<{ path: string; size: number } | undefined> {
    const a = await this.#store.artifact(`${version}/${name}`);
    return a && { path: join(this.#dir, version, name), size: a.size };
  }

  #view(row: OtaReleaseRow, artifacts: readonly OtaArtifactRow[]): ReleaseView {
    return {
      version: row.version,
      keyId: row.key_id,
      publishedAt: row.published_at,
      publishedBy: row.published_by,
      manifest: JSON.parse(row.manifest) as ReleaseManifest,
      // The full download first, then the deltas by the version each applies to.
      artifacts: artifacts
        .map((a) => ({ name: a.id.slice(row.version.length + 1), from: a.from_version, size: a.size, sha256: a.sha256 }))
        .sort((x, y) => (x.from === null ? -1 : y.from === null ? 1 : x.from.localeCompare(y.from))),
    };
  }
}

/**
 * Opens an artifact for a byte range (inclusive end), for the download route. Small reads: what is
 * counted as served stays close to what left before a cut.
 */
export async function openRange(path: string, start: number, end: number) {
  const fh = await open(path, 'r');
  return fh.createReadStream({ start, end, autoClose: true, highWaterMark: 16 * 1024 });
}
