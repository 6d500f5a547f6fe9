/**
 * The flows outbox's hourly pruning run on a fleet that keeps 30 days: 1,000,000 events settled
 * (or, when pending, written) evenly over the last 30 days and 1.1 hours (96 % delivered, 4 %
 * pending, 1 % dead-lettered), so the run deletes the ~1,300 delivered more than keepDays ago in
 * batches of `flows.outbox.pruneBatch` (500) — `FlowsOutbox.pruneDelivered` as the fleet calls it.
 * The median of five runs (each rolled back, so every one prunes the same table) with the index
 * migration 0017 adds (`flows_outbox_settled (state, settled_at)`) against the same table without
 * it in the same run (each batch then reads the whole table). On SQLite and on PostgreSQL.
 *
 * Runnable alone: `node fleet/bench/flows-prune.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from '@shouwang/runtime';
import { startPostgres } from '@shouwang/testkit';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { Database } from '../src/storage/schema.ts';

const EVENTS = 1_000_000;
const BATCH = 500;
const NOW = Date.UTC(2026, 11, 1);
/** ms between two events' times: 1,000,000 of them span 30 days and 1.1 hours. */
const STEP = 2596;
const BEFORE = NOW - 30 * 86_400_000;

/** Event n: settled (or, when pending, written) n × STEP ago. */
const fill = (
  series: string,
) => sql`insert into flows_outbox (ticket_id, type, action, at, reason, ticket, state, attempts, leased_until, settled_at)
  select 't' || (n % 50000), 'ticket.changed', 'sign', cast(${NOW} as bigint) - cast(n as bigint) * ${STEP}, null, '{}',
    case when n % 100 = 0 then 'dead-letter' when n % 25 = 1 then 'pending' else 'delivered' end, 1, 0,
    case when n % 25 = 1 then null else cast(${NOW} as bigint) - cast(n as bigint) * ${STEP} end
  from ${sql.raw(series)}`;

class Rollback extends Error {}

/** Median ms of five pruning runs, each rolled back. */
async function batch(db: Kysely<Database>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    await db
      .transaction()
      .execute(async (tx) => {
        const t0 = performance.now();
        const n = await new FlowsOutbox(tx).pruneDelivered(BEFORE, BATCH);
        times.push(performance.now() - t0);
        if (n < 1000 || n > 1500) throw new Error(`pruned ${n}, not the hour's ~1,300`);
        throw new Rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
  }
  return times.sort((a, b) => a - b)[2] as number;
}

async function measure(db: Kysely<Database>, name: string, analyze: string): Promise<BenchRow> {
  await sql.raw(analyze).execute(db);
  const indexed = await batch(db);
  await sql`drop index flows_outbox_settled`.execute(db);
  await sql.raw(analyze).execute(db);
  const bare = await batch(db);
  return {
    name: `hourly prune of a ${EVENTS.toLocaleString('en')}-event outbox (30 days kept, batches of ${BATCH}), ${name} (baseline: without flows_outbox_settled)`,
    value: indexed,
    unit: 'ms',
    baseline: bare,
  };
}

export async function bench(): Promise<BenchRow[]> {
  const teardown: (() => Promise<unknown>)[] = [];
  try {
    const dir = await mkdtemp(join(tmpdir(), 'bench-prune-'));
    teardown.unshift(() => rm(dir, { recursive: true, force: true }));
    const lite = await openDatabase('', dir, () => {});
    teardown.unshift(() => lite.db.destroy());
    await sql`with recursive g(n) as (select 1 union all select n + 1 from g where n < ${EVENTS}) ${fill('g')}`.execute(lite.db);
    const sqlite = await measure(lite.db, 'SQLite', 'analyze');

    const { url: base } = await startPostgres((fn) => teardown.unshift(fn));
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query('create database bench_flows_prune');
    await admin.end();
    const url = new URL(base);
    url.pathname = '/bench_flows_prune';
    const post = await openDatabase(url.toString(), '', () => {});
    teardown.unshift(() => post.db.destroy());
    await fill(`generate_series(1, ${EVENTS}) n`).execute(post.db);
    const postgres = await measure(post.db, 'PostgreSQL', 'analyze flows_outbox');
    return [sqlite, postgres];
  } finally {
    for (const fn of teardown) await fn();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await bench());
