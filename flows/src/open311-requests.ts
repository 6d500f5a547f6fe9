import { batcher } from './batcher.ts';
import type { Node } from './red.ts';

/**
 * The Open311 service requests the flows opened, one global-context key per `service_request_id`
 * (→ ticket id): written by `shouwang deliver` (target open311) when the endpoint answers, read and
 * dropped by `shouwang open311 status`. They live in the context store named `file`, which the
 * shipped runner keeps on disk without a cache, so a request opened just before a kill -9 is still
 * polled after the restart (a cached store flushes every 30 s). Where no such store is configured
 * Node-RED uses its default one.
 */
const STORE = 'file';
const PREFIX = 'shouwang_open311_';

export interface Tracked {
  ticketId: string;
  at: number;
}

function call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** Every request tracked, read in one go (a file store reads and parses its whole file per get). */
export async function trackedRequests(node: Node): Promise<[string, Tracked][]> {
  const g = node.context().global;
  const keys = ((await call<string[]>((cb) => g.keys(STORE, cb))) ?? []).filter((x) => x.startsWith(PREFIX));
  if (keys.length === 0) return [];
  const values = await new Promise<(Tracked | null | undefined)[]>((resolve, reject) =>
    g.get(keys, STORE, (err, ...v) => (err ? reject(err) : resolve(v as (Tracked | null | undefined)[]))),
  );
  const out: [string, Tracked][] = [];
  keys.forEach((k, i) => {
    const v = values[i];
    if (v) out.push([k.slice(PREFIX.length), v]);
  });
  return out;
}

/**
 * Keeps requests for `open311 status` to poll; each call resolves once its request is on disk. The
 * file store rewrites its whole file per write, so requests answered together are written together
 * (a storm's thousand would otherwise be a thousand rewrites of a growing file).
 */
export function requestTracker(node: Node): (serviceRequestId: string, t: Tracked) => Promise<void> {
  const write = batcher<[string, Tracked]>(500, async (items) => {
    await call((cb) =>
      node.context().global.set(
        items.map(([id]) => `${PREFIX}${id}`),
        items.map(([, t]) => t),
        STORE,
        cb,
      ),
    );
  });
  return (serviceRequestId, t) => write([serviceRequestId, t]);
}

export function untrackRequest(node: Node, serviceRequestId: string): Promise<unknown> {
  return call((cb) => node.context().global.set(`${PREFIX}${serviceRequestId}`, undefined, STORE, cb));
}
