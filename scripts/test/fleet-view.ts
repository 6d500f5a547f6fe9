/**
 * The end-to-end tests' view of a running system: the fleet's unit list over its HTTP API, a
 * poll that waits for a condition on it (never a sleep), and `./dev sim` against its data dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunningSystem } from '../system.ts';

export async function units<U>(sys: RunningSystem): Promise<U[]> {
  const res = await fetch(`http://127.0.0.1:${sys.httpPort}/api/units`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { units: U[] }).units;
}

/** Polls the fleet API: returns as soon as the condition holds, fails at the deadline with the last state. */
export async function until<U>(sys: RunningSystem, what: string, ok: (u: U[]) => boolean, timeoutMs: number): Promise<U[]> {
  const deadline = Date.now() + timeoutMs;
  let last: U[] = [];
  while (Date.now() < deadline) {
    last = await units<U>(sys);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} not reached within ${timeoutMs} ms; last state: ${JSON.stringify(last)}`);
}

const SIM = fileURLToPath(new URL('../sim.ts', import.meta.url));

/** `./dev sim` as an operator runs it against this system's data dir. */
export async function sim(dataDir: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, [SIM, '--data-dir', dataDir, ...args]);
  return JSON.parse(stdout);
}
