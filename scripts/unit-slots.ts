/**
 * The demo units' A/B slots, laid out as install.sh lays them out on a Pi (device/src/services/ota-slots.ts)
 * under `<dataDir>/units/<id>/slots`, so a demo unit takes an update job as a unit in the field does.
 * Slot a starts with the factory release: this checkout's agent bundled as the release tool bundles
 * it, version SEED_VERSION, signed with the demo key, kept as a release folder
 * (`<dataDir>/releases/0.1.0`) that a maintainer's next release makes its delta from.
 *
 * Bundling takes 1–2 s, so the seed is kept with the SHA-256 of every file esbuild read (and of the
 * build script and the key): a start with nothing changed only hashes those files again (~550).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ReleaseManifest, SignedManifest } from '@shouwang/protocol';
import { buildBundle } from '../device/deploy/build.ts';
import { buildRelease, signRelease } from '../device/release/release.ts';
import { currentSlot, initSlots, installIntoSlot, sha256, slotBundleSha, slotRelease } from '../device/src/services/ota-slots.ts';

/** The version the demo units are installed with (what the agent run from its sources reports too). */
export const SEED_VERSION = '0.1.0';

/** Files that shape the bundle besides its inputs: the build's own options and plugins. */
const BUILD_FILES = ['../device/deploy/build.ts', '../device/deploy/node-cron-local-time.ts', './unit-slots.ts'].map((p) =>
  fileURLToPath(new URL(p, import.meta.url)),
);

export interface SeedRelease {
  dir: string;
  bundle: Buffer;
  signed: SignedManifest;
}

interface SeedRecord {
  bundleSha256: string;
  keyId: string;
  files: Record<string, string>;
}

const hashFile = (path: string): string | undefined => {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
};

function fingerprint(files: readonly string[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f, hashFile(f) ?? 'missing']));
}

function keptSeed(dir: string, keyId: string): SeedRelease | undefined {
  let rec: SeedRecord;
  let signed: SignedManifest;
  let bundle: Buffer;
  try {
    rec = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8')) as SeedRecord;
    signed = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8')) as SignedManifest;
    bundle = readFileSync(join(dir, 'agent.mjs'));
  } catch {
    return undefined;
  }
  if (rec.keyId !== keyId || signed.keyId !== keyId || sha256(bundle) !== rec.bundleSha256) return undefined;
  const now = fingerprint(Object.keys(rec.files));
  return Object.entries(rec.files).every(([f, h]) => now[f] === h) ? { dir, bundle, signed } : undefined;
}

/**
 * The factory release under `releasesDir`, built again only when the checkout (or the key) changed.
 * The build runs in a process of its own, as `./dev release` would: esbuild's service would stay a
 * child of the orchestrator otherwise.
 */
export async function seedRelease(releasesDir: string, key: { keyId: string; privateKey: string }): Promise<SeedRelease> {
  const dir = join(releasesDir, SEED_VERSION);
  const kept = keptSeed(dir, key.keyId);
  if (kept) return kept;
  await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), releasesDir, key.keyId, key.privateKey]);
  const built = keptSeed(dir, key.keyId);
  if (!built) throw new Error(`the factory release in ${dir} does not match the checkout after building it`);
  return built;
}

async function buildSeed(releasesDir: string, key: { keyId: string; privateKey: string }): Promise<void> {
  const dir = join(releasesDir, SEED_VERSION);
  rmSync(dir, { recursive: true, force: true });
  const scratch = await mkdtemp(join(tmpdir(), 'sw-seed-'));
  try {
    const built = await buildBundle(join(scratch, 'agent.mjs'), { version: SEED_VERSION });
    await buildRelease({ version: SEED_VERSION, out: releasesDir, bundle: readFileSync(join(scratch, 'agent.mjs')) });
    signRelease(dir, key.keyId, readFileSync(key.privateKey, 'utf8'));
    const bundle = readFileSync(join(dir, 'agent.mjs'));
    const rec: SeedRecord = {
      bundleSha256: sha256(bundle),
      keyId: key.keyId,
      files: fingerprint([...built.inputs, ...BUILD_FILES, key.privateKey]),
    };
    writeFileSync(join(dir, 'seed.json'), `${JSON.stringify(rec)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A unit's slots before it starts: installed with the seed when it has none; a unit still on the
 * factory version follows the checkout (its current slot gets the new seed), while one that a
 * campaign updated keeps the release it committed.
 */
export function prepareSlots(slotsDir: string, seed: SeedRelease): void {
  if (!existsSync(join(slotsDir, 'current'))) {
    initSlots(slotsDir, seed.bundle, seed.signed);
    return;
  }
  const slot = currentSlot(slotsDir);
  const installed = slotRelease(slotsDir, slot);
  const version = installed ? (JSON.parse(installed.body) as ReleaseManifest).version : SEED_VERSION;
  if (version === SEED_VERSION && slotBundleSha(slotsDir, slot) !== sha256(seed.bundle))
    installIntoSlot(slotsDir, slot, seed.bundle, seed.signed);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [releasesDir, keyId, privateKey] = process.argv.slice(2);
  if (!releasesDir || !keyId || !privateKey) throw new Error('usage: unit-slots.ts <releases dir> <key id> <private key.pem>');
  await buildSeed(releasesDir, { keyId, privateKey });
}
