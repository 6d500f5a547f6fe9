/**
 * The maintainer's release tool (`./dev release …`). Signing keys never enter the repository:
 * `keygen` writes the private key where --out says (mode 0600; `*.pem` is git-ignored) and adds
 * the public half to a trusted-keys file that units and the fleet are given.
 *   ./dev release keygen  --id <key id> --out <dir> --trusted <trusted-keys.json>
 *   ./dev release retire  --id <key id> --trusted <trusted-keys.json>
 *   ./dev release build   --version <x.y.z> --out <releases dir> [--from <earlier release dir>]… [--boards pi4,zero2w] [--min-battery 30]
 *   ./dev release sign    --release <release dir> --key <private key.pem> --id <key id>
 *   ./dev release publish --release <release dir> --fleet <url>    (token in $SHOUWANG_TOKEN)
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkValue, OTA_RELEASES_ROUTE, type ReleaseManifest, TrustedKeys } from '@shouwang/protocol';
import { generateSigningKey } from '../src/services/ota-trust.ts';
import { buildRelease, publishBody, signRelease } from './release.ts';

const USAGE = readFileSync(new URL(import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith(' *   ./dev release'))
  .map((l) => l.slice(3))
  .join('\n');

function readTrusted(path: string): TrustedKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return { keys: [] };
  }
  const r = checkValue(TrustedKeys, raw);
  if (!r.ok) throw new Error(`${path}: ${r.error.message} at ${r.error.path}`);
  return r.value;
}

function need(v: string | undefined, flag: string): string {
  if (v === undefined) throw new Error(`--${flag} is required\n${USAGE}`);
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [task, ...rest] = argv;
  const { values: a } = parseArgs({
    args: rest,
    options: {
      id: { type: 'string' },
      out: { type: 'string' },
      trusted: { type: 'string' },
      version: { type: 'string' },
      from: { type: 'string', multiple: true },
      boards: { type: 'string' },
      'min-battery': { type: 'string' },
      notes: { type: 'string' },
      release: { type: 'string' },
      key: { type: 'string' },
      fleet: { type: 'string' },
    },
  });
  switch (task) {
    case 'keygen': {
      const id = need(a.id, 'id');
      const trustedPath = need(a.trusted, 'trusted');
      const trusted = readTrusted(trustedPath);
      if (trusted.keys.some((k) => k.id === id)) throw new Error(`${trustedPath} already has a key ${id}`);
      const key = generateSigningKey();
      const dir = need(a.out, 'out');
      mkdirSync(dir, { recursive: true });
      const pem = join(dir, `${id}.pem`);
      writeFileSync(pem, key.privatePem, { mode: 0o600, flag: 'wx' });
      chmodSync(pem, 0o600);
      trusted.keys.push({ id, publicKey: key.publicKey });
      writeFileSync(trustedPath, `${JSON.stringify(trusted, null, 2)}\n`);
      console.log(`private key ${pem} (keep it off the repository); public key added to ${trustedPath}`);
      return 0;
    }
    case 'retire': {
      const id = need(a.id, 'id');
      const trustedPath = need(a.trusted, 'trusted');
      const trusted = readTrusted(trustedPath);
      const key = trusted.keys.find((k) => k.id === id);
      if (!key) throw new Error(`${trustedPath} has no key ${id}`);
      key.retired = true;
      writeFileSync(trustedPath, `${JSON.stringify(trusted, null, 2)}\n`);
      console.log(`key ${id} retired in ${trustedPath}: releases it signed are refused once units get this file`);
      return 0;
    }
    case 'build': {
      const { dir, manifest } = await buildRelease({
        version: need(a.version, 'version'),
        out: need(a.out, 'out'),
        from: a.from ?? [],
        ...(a.boards ? { boards: a.boards.split(',') } : {}),
        ...(a['min-battery'] ? { minBatteryPct: Number(a['min-battery']) } : {}),
        ...(a.notes ? { notes: a.notes } : {}),
      });
      console.log(`${dir}: bundle ${manifest.bundle.size} B, full ${manifest.full.size} B`);
      for (const d of manifest.deltas) console.log(`  delta from ${d.from}: ${d.size} B`);
      return 0;
    }
    case 'sign': {
      const dir = need(a.release, 'release');
      const signed = signRelease(dir, need(a.id, 'id'), readFileSync(need(a.key, 'key'), 'utf8'));
      console.log(`${join(dir, 'release.json')} signed with ${signed.keyId}`);
      return 0;
    }
    case 'publish': {
      const token = process.env.SHOUWANG_TOKEN;
      if (!token) throw new Error('set SHOUWANG_TOKEN to a maintainer token');
      const url = new URL(OTA_RELEASES_ROUTE, need(a.fleet, 'fleet'));
      const body = publishBody(need(a.release, 'release'));
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${url}: ${refusal(res.status, text)}`);
      console.log(publishedLines(JSON.parse(body.manifest.body) as ReleaseManifest, url));
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}

/** What a maintainer reads after publishing: the release, its downloads, and the next step. */
function publishedLines(m: ReleaseManifest, url: URL): string {
  const mb = (b: number) => `${(b / 1_048_576).toFixed(1)} MB`;
  const rows = [`  full   ${m.full.name}  ${mb(m.full.size)}`, ...m.deltas.map((d) => `  delta  from ${d.from}  ${d.name}  ${mb(d.size)}`)];
  return `published ${m.version} to ${url.origin}\n${rows.join('\n')}\nnext: ./dev shouwang campaign create --name "to ${m.version}" --version ${m.version} [--tags a,b | --units …]`;
}

/** The fleet's coded error as one line (`409 CONFLICT: …`), or what it answered. */
function refusal(status: number, text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.code) return `${status} ${e.code}: ${e.message ?? ''}`;
  } catch {
    // Not the fleet's JSON (a proxy's page): what it said, cut short.
  }
  return `HTTP ${status} ${text.slice(0, 300)}`;
}
