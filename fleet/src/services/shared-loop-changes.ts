import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NotifyListener } from '../storage/pg-notify.ts';
import type { LoopChange, LoopChangeSource, LoopChanges } from './loop-changes.ts';

/** The channel the alarm loop's changes are told on, between fleet instances on one PostgreSQL. */
export const LOOP_CHANNEL = 'shouwang_loop_changes';
/** PostgreSQL refuses a payload of 8,000 bytes or more: a storm batch's ids go in several. */
const PAYLOAD_BYTES = 7000;

interface Told {
  /** The telling process, so it does not hear its own change twice. */
  from: string;
  e: string[];
  t: string[];
}

/**
 * The alarm loop's changes as every fleet instance commits them, for the live views: this
 * process's at once (`LoopChanges`), the others' by NOTIFY. Each commit's ids are told after the
 * commit, on the pool (a notification never announces rows a reader cannot see yet); one lost
 * between the commit and the telling (the process died) is what the views' slow reconcile finds.
 * A commander on one instance sees an alarm another instance took within a push, not a reconcile.
 */
export class SharedLoopChanges implements LoopChangeSource {
  readonly #local: LoopChanges;
  readonly #remote = new Set<(c: LoopChange) => void>();
  readonly #send: (payloads: readonly string[]) => Promise<void>;
  readonly #log: Logger;
  readonly #self = randomUUID();
  readonly #stop: (() => void)[];
  /** Changes that could not be told (the views on other instances reconcile them). */
  untold = 0;

  constructor(o: { local: LoopChanges; listener: NotifyListener; send: (payloads: readonly string[]) => Promise<void>; log: Logger }) {
    this.#local = o.local;
    this.#send = o.send;
    this.#log = o.log;
    this.#stop = [o.local.subscribe((c) => this.#tell(c)), o.listener.on(LOOP_CHANNEL, (p) => this.#heard(p))];
  }

  subscribe(f: (c: LoopChange) => void): () => void {
    const local = this.#local.subscribe(f);
    this.#remote.add(f);
    return () => {
      local();
      this.#remote.delete(f);
    };
  }

  close(): void {
    for (const f of this.#stop) f();
  }

  /** In one statement: a storm batch's ids fill several payloads, and each statement is a round trip on cores the storm needs. */
  #tell(c: LoopChange): void {
    const told = payloads(this.#self, c.episodes ?? [], c.tickets ?? []);
    if (told.length === 0) return;
    this.#send(told).catch((err: unknown) => {
      this.untold++;
      this.#log.warn({ err }, 'loop change not told to the other instances; their views reconcile it');
    });
  }

  #heard(payload: string | null): void {
    // null: notifications may have been missed while the listener was away; the reconcile covers them.
    if (payload === null) return;
    let told: Told;
    try {
      told = JSON.parse(payload) as Told;
    } catch (err) {
      this.#log.warn({ err }, 'unreadable loop change notification dropped');
      return;
    }
    if (told.from === this.#self || !Array.isArray(told.e) || !Array.isArray(told.t)) return;
    const change: LoopChange = { episodes: told.e.map(String), tickets: told.t.map(String) };
    for (const f of this.#remote)
      try {
        f(change);
      } catch (err) {
        this.#log.warn({ err }, 'loop change listener failed');
      }
  }
}

/** A change's ids in as few payloads as fit under PostgreSQL's limit. */
export function payloads(from: string, episodes: readonly string[], tickets: readonly string[]): string[] {
  const out: string[] = [];
  let cur: Told = { from, e: [], t: [] };
  let size = JSON.stringify(cur).length;
  const flush = () => {
    if (cur.e.length + cur.t.length > 0) out.push(JSON.stringify(cur));
    cur = { from, e: [], t: [] };
    size = JSON.stringify(cur).length;
  };
  const add = (list: 'e' | 't', id: string) => {
    const more = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (size + more > PAYLOAD_BYTES) flush();
    cur[list].push(id);
    size += more;
  };
  for (const id of episodes) add('e', id);
  for (const id of tickets) add('t', id);
  flush();
  return out;
}
