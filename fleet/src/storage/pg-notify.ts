import { type Kysely, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './schema.ts';

/**
 * Notifications heard by channel, across fleet instances on one PostgreSQL.
 *
 * A callback gets each notification's payload, or `null` when notifications may have been missed:
 * the listening connection dropped (nothing is heard until it is back) or came back (what was
 * committed meanwhile was notified to nobody). On `null`, look at the database again.
 */
export interface NotifyListener {
  /** Hears `channel` (a lower-case SQL identifier); returns the function that stops it. */
  on(channel: string, fn: (payload: string | null) => void): () => void;
  /** Whether notifications are heard now; while not, a caller looks for changes by itself. */
  readonly listening: boolean;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Notifies `channel` in the caller's transaction, once per payload, in one statement however many.
 * PostgreSQL delivers them when the transaction commits (never if it rolls back), in this order,
 * so a listener woken by one finds the rows committed.
 */
export async function notify(tx: Kysely<Database>, channel: string, payloads: readonly string[] = ['']): Promise<void> {
  if (payloads.length === 1) await notification(channel, payloads[0]).execute(tx);
  else if (payloads.length > 1)
    await sql`select pg_notify(${channel}, p) from unnest(${[...payloads]}::text[]) with ordinality as n(p, i) order by i`.execute(tx);
}

/** The statement `notify` runs, to end another statement with (`JsonInserts.execute`). */
export function notification(channel: string, payload = ''): RawBuilder<unknown> {
  return sql`select pg_notify(${channel}, ${payload})`;
}

export interface PgListenerOptions {
  url: string;
  log: Logger;
  /** Reconnect backoff: min(2^n × baseMs, capMs) after the n-th failure in a row. */
  backoff?: { baseMs: number; capMs: number };
  /** How the connection shows in pg_stat_activity (an administrator's way to find it). */
  applicationName?: string;
}

/**
 * One dedicated connection per fleet that LISTENs on every channel asked for (not one per waiting
 * caller: the pool's connections are for queries). It reconnects with capped backoff while the
 * fleet runs; a callback that throws is logged and does not stop the others.
 */
export class PgListener implements NotifyListener {
  readonly #o: PgListenerOptions & { backoff: { baseMs: number; capMs: number } };
  readonly #channels = new Map<string, Set<(payload: string | null) => void>>();
  #client: pg.Client | null = null;
  #listening = false;
  #failures = 0;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;
  #connecting: Promise<void> = Promise.resolve();
  #queries: Promise<void> = Promise.resolve();

  constructor(o: PgListenerOptions) {
    this.#o = { backoff: { baseMs: 100, capMs: 10_000 }, ...o };
  }

  /** Starts connecting; returns at once (until the connection is up, `listening` is false). */
  start(): this {
    this.#connecting = this.#connect();
    return this;
  }

  get listening(): boolean {
    return this.#listening;
  }

  on(channel: string, fn: (payload: string | null) => void): () => void {
    if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${JSON.stringify(channel)}`);
    let fns = this.#channels.get(channel);
    if (!fns) {
      fns = new Set();
      this.#channels.set(channel, fns);
      // Until the connection is up, its start LISTENs on every channel, this one included; once
      // up, one query at a time (pg queues concurrent ones but deprecates it).
      const client = this.#client;
      if (client && this.#listening) {
        this.#queries = this.#queries
          .then(() => client.query(`LISTEN ${channel}`))
          .then(
            () => {},
            (err: unknown) => this.#lost(client, err),
          );
      }
    }
    fns.add(fn);
    return () => {
      fns.delete(fn);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#connecting;
    const client = this.#client;
    this.#client = null;
    this.#listening = false;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    this.#retry = null;
    const client = new pg.Client({
      connectionString: this.#o.url,
      keepAlive: true,
      application_name: this.#o.applicationName ?? 'shouwang-fleet-listen',
    });
    // Both may come for one drop; #lost acts on the first.
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, new Error('listening connection ended')));
    client.on('notification', (n) => this.#dispatch(n.channel, n.payload ?? ''));
    this.#client = client;
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.#lost(client, err);
      return;
    }
    if (this.#client !== client) return;
    if (this.#closed) return;
    this.#listening = true;
    if (this.#failures > 0) this.#o.log.info({ after: this.#failures }, 'listening for notifications again');
    this.#failures = 0;
    this.#missed();
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    const was = this.#listening;
    this.#listening = false;
    client.end().catch(() => {});
    if (this.#closed) return;
    const delay = Math.min(2 ** this.#failures * this.#o.backoff.baseMs, this.#o.backoff.capMs);
    this.#failures++;
    this.#o.log.warn(
      { err, retryInMs: delay },
      'notification listener lost its connection; callers look for changes by themselves meanwhile',
    );
    if (was) this.#missed();
    this.#retry = setTimeout(() => {
      this.#connecting = this.#connect();
    }, delay);
  }

  #missed(): void {
    for (const channel of this.#channels.keys()) this.#dispatch(channel, null);
  }

  #dispatch(channel: string, payload: string | null): void {
    for (const fn of this.#channels.get(channel) ?? []) {
      try {
        fn(payload);
      } catch (err) {
        this.#o.log.error({ err, channel }, 'notification callback failed');
      }
    }
  }
}
