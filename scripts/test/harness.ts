/**
 * Harness vocabulary for the end-to-end tests: `startTestSystem(t, …)` runs the whole system
 * (`startSystem`) on free ports in a temporary data dir, stopped and removed after the test;
 * `spawnCaptured(t, …)` runs a command with its stdout and stderr collected (`out()`), killed
 * after the test if it is still running; `waitFor(what, f, ms)` polls `f` until it gives a value
 * (its errors kept for the failure message) and fails naming `what` after `ms`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type RunningSystem, type SystemOptions, startSystem } from '../system.ts';

export async function startTestSystem(
  t: TestContext,
  opts: Omit<SystemOptions, 'mqttPort' | 'httpPort' | 'gatewayHttpPort' | 'dataDir'>,
): Promise<{ sys: RunningSystem; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-e2e-'));
  // Units record (ffmpeg each) only in the tests that ask for it with SHOUWANG_DEVICE_VIDEO_ENABLED in opts.env.
  const sys = await startSystem({
    mqttPort: 0,
    httpPort: 0,
    gatewayHttpPort: 0,
    dataDir,
    ...opts,
    env: { SHOUWANG_DEVICE_VIDEO_ENABLED: 'false', ...opts.env },
  });
  t.after(async () => {
    await sys.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { sys, dataDir };
}

export interface Captured {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

export function spawnCaptured(t: TestContext, cmd: string, args: string[], options: SpawnOptions = {}): Captured {
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  for (const stream of [child.stdout, child.stderr])
    stream?.on('data', (d: Buffer) => {
      out += d.toString();
    });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out, exited };
}

export async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const v = await f().catch((err: unknown) => {
      last = err;
      return undefined;
    });
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`${what} not reached within ${ms} ms; last: ${String(last)}`);
}
