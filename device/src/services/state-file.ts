import type { Logger } from 'pino';
import { readJsonFile, writeFileAtomic } from './atomic-file.ts';
import { STATE_VERSION } from './state-migrations.ts';

/**
 * The agent's JSON state files (state.json, config-overrides.json, ota/job.json, a download's part
 * record, the slots' boot.json) carry the state version of the agent that wrote them,
 * `stateVersion`, beside their own fields. They follow the SQLite files' rule (state-migrations.ts):
 * fields are only added, so the previous release, which reads the fields it knows and leaves out
 * the rest (config-overrides.json: keys it has no config for), reads the file after a rollback; a
 * file from a newer agent is read as it stands and reported, never refused. The writer stamps its
 * own version: what it writes has its shape.
 */
export const STAMP = 'stateVersion';

export interface StateFile<T> {
  value: T;
  /** The stamp read; 0 for a file from before versioning (or none at all). */
  version: number;
  /** Written by an agent with a newer state version than this one. */
  newer: boolean;
  /** The file was refused and `value` is the fallback: its stamp is not a state version. */
  problem?: string;
}

export function readStateFile<T extends object>(path: string, fallback: T): StateFile<T> {
  const raw = readJsonFile<unknown>(path, undefined);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { value: fallback, version: 0, newer: false };
  const stamp = (raw as Record<string, unknown>)[STAMP];
  if (stamp === undefined) return { value: raw as T, version: 0, newer: false };
  if (typeof stamp !== 'number' || !Number.isInteger(stamp) || stamp < 1) {
    return { value: fallback, version: 0, newer: false, problem: `${STAMP} ${JSON.stringify(stamp)} is not a state version` };
  }
  const { [STAMP]: _, ...value } = raw as Record<string, unknown>;
  return { value: value as T, version: stamp, newer: stamp > STATE_VERSION };
}

/** `indent` for a file people read (config-overrides.json). */
export function writeStateFile(path: string, value: object, indent?: number): void {
  writeFileAtomic(path, JSON.stringify({ [STAMP]: STATE_VERSION, ...value }, null, indent));
}

/** Says so when a file was refused or comes from a newer release; silent otherwise. */
export function logStateFile(log: Logger, file: string, r: StateFile<unknown>): void {
  if (r.problem) log.error({ file, problem: r.problem }, 'state file refused: starting from defaults');
  else if (r.newer)
    log.warn({ file, stateVersion: r.version, known: STATE_VERSION }, 'state written by a newer release: read as it stands');
}
