import type { TestContext } from 'node:test';

/**
 * Cleanup in reverse order of start, like `defer`: t.after runs hooks first-registered-first,
 * which would stop Redis before the gateway nodes that still talk to it.
 */
const stacks = new WeakMap<TestContext, (() => unknown)[]>();

export function defer(t: TestContext, fn: () => unknown): void {
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
