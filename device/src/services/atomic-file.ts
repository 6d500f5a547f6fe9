import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Crash-safe replace: write a temp file, fsync it, rename over the target, fsync the directory
 * (POSIX rename is atomic, but the new directory entry is durable only after the directory's fsync).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameDurable(tmp, path);
}

/** Moves a finished file written aside (`tmp`) into place so that after a power cut `path` is either absent or whole. */
export function renameDurable(tmp: string, path: string): void {
  fsyncPath(tmp);
  renameSync(tmp, path);
  fsyncPath(dirname(path));
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The parsed JSON file, or `fallback` when it does not exist or does not parse (a torn write of an old version). */
export function readJsonFile<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return fallback;
  }
}
