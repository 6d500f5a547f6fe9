/**
 * A flows consumer's long-poll lease held on fleet instance A while instance B, on the same
 * PostgreSQL, commits a ticket event: B starts its transaction → A's waiting lease answers with
 * the event. Each instance has its own pool and outbox object, as two fleets have (both in this
 * process: the listener's work and B's writes share one event loop, as they would not apart).
 *
 * Rows: p50 and p99 over ROWS events, one at a time, each committed a random 0–500 ms after the
 * lease started waiting, with A's listener hearing B's commits (the fleet as it runs), against the
 * same with no listener — A finding B's events by asking again every 500 ms (flows.lease.recheckMs,
 * what a waiting lease does while its listener is down) — in the same run.
 *
 * Runnable alone: `node fleet/bench/flows-lease.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchRow } from '@shouwang/runtime';
import { startPostgres } from '@shouwang/testkit';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { leaseWaiting } from '../src/flows/lease-wait.ts';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { openDatabase } from '../src/storage/open.ts';
import { PgListener } from '../src/storage/pg-notify.ts';
import type { Database } from '../src/storage/schema.ts';
import { ticket } from '../test/flows-helpers.ts';

const ROWS = 200;
const RECHECK_MS = 500;
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** One row per lease: B's commit → A's answer, in ms, sorted. */
async function latencies(a: FlowsOutbox, b: { db: Kysely<Database>; outbox: FlowsOutbox }, tag: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ROWS; i++) {
    const lease = leaseWaiting(a, {
      now: Date.now,
      leaseMs: 60_000,
      limit: 10,
      waitMs: 30_000,
      recheckMs: RECHECK_MS,
      safetyMs: 10_000,
      signal: AbortSignal.timeout(30_000),
    });
    await sleep(Math.random() * RECHECK_MS);
    const t0 = performance.now();
    await b.db
      .transaction()
      .execute((tx) =>
        b.outbox.append(tx, [{ ticket: ticket(`${tag}-${i}`), type: 'ticket.created', action: 'dispatch', reason: null, at: Date.now() }]),
      );
    const got = await lease;
    if (got.events.length !== 1) throw new Error(`lease ${i} answered ${got.events.length} events`);
    out.push(performance.now() - t0);
    // Delivered, as the consumer would: an unsettled event would be leased again once its lease ran out.
    await a.settle(
      got.events.map((e) => ({ seq: e.seq, outcome: 'delivered' as const })),
      Date.now(),
    );
  }
  return out.sort((x, y) => x - y);
}

export async function bench(): Promise<BenchRow[]> {
  const teardown: (() => Promise<unknown>)[] = [];
  try {
    const { url: base } = await startPostgres((fn) => teardown.unshift(fn));
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query('create database bench_flows_lease');
    await admin.end();
    const url = new URL(base);
    url.pathname = '/bench_flows_lease';
    const open = async () => {
      const { db } = await openDatabase(url.toString(), '', () => {});
      teardown.unshift(() => db.destroy());
      return { db, outbox: new FlowsOutbox(db) };
    };
    const a = await open();
    const b = await open();
    const recheck = await latencies(a.outbox, b, 'recheck');
    const listener = new PgListener({ url: url.toString(), log: pino({ level: 'silent' }) }).start();
    teardown.unshift(() => listener.close());
    a.outbox.hear(listener);
    while (!a.outbox.othersHeard()) await sleep(10);
    const heard = await latencies(a.outbox, b, 'notify');
    const name = (q: string) =>
      `another instance's event → waiting lease answered ${q}, PostgreSQL LISTEN/NOTIFY (baseline: ${RECHECK_MS} ms recheck), ${ROWS} events`;
    return [
      { name: name('p50'), value: quantile(heard, 0.5), unit: 'ms', baseline: quantile(recheck, 0.5) },
      { name: name('p99'), value: quantile(heard, 0.99), unit: 'ms', baseline: quantile(recheck, 0.99) },
    ];
  } finally {
    for (const fn of teardown) await fn();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await bench());
