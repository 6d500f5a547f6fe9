/**
 * Real outside servers for tests and benches: each starts on 127.0.0.1 and a free port with its
 * data in a temp dir, and registers its own teardown through the caller's `cleanup` (a test's
 * `t.after`, a suite's `after`, or a LIFO helper when servers depend on each other).
 */
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';

export type Cleanup = (fn: () => Promise<unknown>) => void;

interface HasAfter {
  after(fn: () => unknown): unknown;
}
const stacks = new WeakMap<HasAfter, (() => unknown)[]>();

/**
 * Cleanup in reverse order of start, like Go's `defer`: node:test runs `t.after` hooks
 * first-registered-first, which would stop Redis before the gateway nodes still talking to it.
 */
export function defer(t: HasAfter, fn: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const s: (() => unknown)[] = [];
    stack = s;
    stacks.set(t, s);
    t.after(async () => {
      while (s.length > 0) await s.pop()?.();
    });
  }
  stack.push(fn);
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', resolve);
  });
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls `probe` until it holds; fails at once if the server process exits, or at the deadline. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/** Stops a child server (TERM, then KILL after 5 s) and removes its data directory. */
export function stopper(child: ChildProcess, dir?: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}
