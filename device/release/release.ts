/**
 * A release on the maintainer's machine: the agent bundle with its version built in, the bundle
 * zstd-compressed (the full download), a binary delta from each earlier release given, and the
 * manifest that names them all by size and SHA-256. Written into one folder per version:
 *
 *   <out>/<version>/agent.mjs                   the bundle (kept: the next release's deltas start from it)
 *   <out>/<version>/agent-<v>.mjs.zst           full download
 *   <out>/<version>/agent-<from>-<v>.patch.zst  one delta per earlier release
 *   <out>/<version>/manifest.json               unsigned manifest
 *   <out>/<version>/release.json                the signed manifest (after `sign`)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OTA_MANIFEST_FORMAT, type ReleaseManifest, type SignedManifest } from '@shouwang/protocol';
import { buildBundle } from '../deploy/build.ts';
import { sha256 } from '../src/services/ota-slots.ts';
import { signManifest } from '../src/services/ota-trust.ts';
import { compressFull, makeDelta } from '../src/services/ota-zstd.ts';
import { STATE_READABLE_FROM, STATE_VERSION } from '../src/services/state-migrations.ts';

export interface BuildOptions {
  version: string;
  out: string;
  /** Earlier releases' folders: a delta is made from each one's bundle. */
  from?: string[];
  boards?: string[];
  minBatteryPct?: number;
  notes?: string;
  /** A bundle built elsewhere (tests: a release that crashes on start); default: this checkout's agent. */
  bundle?: Buffer;
  now?: number;
}

export async function buildRelease(o: BuildOptions): Promise<{ dir: string; manifest: ReleaseManifest }> {
  const dir = join(o.out, o.version);
  mkdirSync(dir, { recursive: true });
  const bundlePath = join(dir, 'agent.mjs');
  if (o.bundle) writeFileSync(bundlePath, o.bundle);
  else await buildBundle(bundlePath, { version: o.version });
  const bundle = readFileSync(bundlePath);
  const artifact = (name: string, data: Buffer) => {
    writeFileSync(join(dir, name), data);
    return { name, size: data.length, sha256: sha256(data) };
  };
  const deltas = (o.from ?? []).map((prev) => {
    const old = readFileSync(join(prev, 'agent.mjs'));
    const from = (JSON.parse(readFileSync(join(prev, 'manifest.json'), 'utf8')) as ReleaseManifest).version;
    return { from, fromSha256: sha256(old), ...artifact(`agent-${from}-${o.version}.patch.zst`, makeDelta(old, bundle)) };
  });
  const manifest: ReleaseManifest = {
    format: OTA_MANIFEST_FORMAT,
    version: o.version,
    createdAt: o.now ?? Date.now(),
    boards: o.boards ?? ['pi4', 'zero2w'],
    minBatteryPct: o.minBatteryPct ?? 30,
    bundle: { size: bundle.length, sha256: sha256(bundle) },
    full: artifact(`agent-${o.version}.mjs.zst`, compressFull(bundle)),
    deltas,
    stateVersion: STATE_VERSION,
    stateReadableFrom: STATE_READABLE_FROM,
    ...(o.notes ? { notes: o.notes } : {}),
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, manifest };
}

export function signRelease(dir: string, keyId: string, privatePem: string): SignedManifest {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ReleaseManifest;
  const signed = signManifest(manifest, keyId, privatePem);
  writeFileSync(join(dir, 'release.json'), `${JSON.stringify(signed)}\n`);
  return signed;
}

/** The signed manifest and every artifact it names, as the fleet's registry takes them. */
export function publishBody(dir: string): { manifest: SignedManifest; artifacts: { name: string; data: string }[] } {
  const signed = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')) as SignedManifest;
  const m = JSON.parse(signed.body) as ReleaseManifest;
  const names = [m.full.name, ...m.deltas.map((d) => d.name)];
  return { manifest: signed, artifacts: names.map((name) => ({ name, data: readFileSync(join(dir, name)).toString('base64') })) };
}
