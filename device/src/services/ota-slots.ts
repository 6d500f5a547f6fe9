import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { SignedManifest } from '@shouwang/protocol';
import type { BootState, Slot } from '../domain/ota-plan.ts';
import { readJsonFile, writeFileAtomic } from './atomic-file.ts';
import { readStateFile, writeStateFile } from './state-file.ts';

/**
 * The A/B layout the launcher and the agent share (the slots folder, /opt/shouwang/slots on a unit):
 *
 *   a/agent.mjs, a/release.json     one installed release per slot (the signed manifest beside it)
 *   b/…
 *   current -> a                    what systemd starts (ExecStart runs current/agent.mjs)
 *   boot.json                       the trial and the latest rollback (domain/ota-plan.ts BootState)
 *
 * `current` is replaced by rename(2) of a new symlink, so at every instant it names one whole slot.
 */
export const BUNDLE_FILE = 'agent.mjs';
const RELEASE_FILE = 'release.json';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function currentSlot(dir: string): Slot {
  const target = readlinkSync(join(dir, 'current'));
  if (target !== 'a' && target !== 'b') throw new Error(`${join(dir, 'current')} points at ${target}, not a slot`);
  return target;
}

export function switchTo(dir: string, slot: Slot): void {
  const tmp = join(dir, 'current.tmp');
  rmSync(tmp, { force: true });
  symlinkSync(slot, tmp);
  renameSync(tmp, join(dir, 'current'));
  fsyncDir(dir);
}

export function readBootState(dir: string): BootState {
  // The launcher reads it before any agent runs: nobody to log a refused or newer file to.
  const s = readStateFile<Partial<BootState>>(join(dir, 'boot.json'), {}).value;
  return s.format === 1 ? (s as BootState) : { format: 1 };
}

export function writeBootState(dir: string, state: BootState): void {
  writeStateFile(join(dir, 'boot.json'), state);
}

export function bundlePath(dir: string, slot: Slot): string {
  return join(dir, slot, BUNDLE_FILE);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The running slot's bundle hash, for matching a delta; undefined when the slot has none. */
export function slotBundleSha(dir: string, slot: Slot): string | undefined {
  try {
    return sha256(readFileSync(bundlePath(dir, slot)));
  } catch {
    return undefined;
  }
}

export function slotRelease(dir: string, slot: Slot): SignedManifest | undefined {
  return readJsonFile<SignedManifest | undefined>(join(dir, slot, RELEASE_FILE), undefined);
}

export function readSlotBundle(dir: string, slot: Slot): Buffer {
  return readFileSync(bundlePath(dir, slot));
}

/** Writes a verified bundle into a slot that is not running: each file lands whole or not at all. */
export function installIntoSlot(dir: string, slot: Slot, bundle: Uint8Array, release: SignedManifest): void {
  mkdirSync(join(dir, slot), { recursive: true });
  writeFileAtomic(bundlePath(dir, slot), bundle);
  writeFileAtomic(join(dir, slot, RELEASE_FILE), JSON.stringify(release));
}

/** First install (install.sh, a test's unit): slot a holds the bundle and `current` points at it. */
export function initSlots(dir: string, bundle: Uint8Array, release?: SignedManifest): void {
  mkdirSync(join(dir, 'a'), { recursive: true });
  writeFileAtomic(bundlePath(dir, 'a'), bundle);
  if (release) writeFileAtomic(join(dir, 'a', RELEASE_FILE), JSON.stringify(release));
  switchTo(dir, 'a');
}
