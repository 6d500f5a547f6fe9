/**
 * The loop batch's inserts (storage/bulk.ts). SQLite's `insertRows` (statement texts written once
 * per shape and row count): rows written whole and in the order given across the power-of-two
 * parts, the tail's ON CONFLICT and RETURNING applied, a value missing or undefined stored as null,
 * as Kysely's `values()` stores it on SQLite. PostgreSQL's `insertJson`: rows in the order given,
 * which the flows outbox's `seq` follows; `JsonInserts`, several of them as one statement: every
 * part lands, in its order, and the statement's last part runs after them, or nothing lands.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { insertJson, insertRows, JsonInserts } from '../src/storage/bulk.ts';
import { openDatabase } from '../src/storage/open.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('batch_inserts');

async function database(t: import('node:test').TestContext, url = '') {
  const dir = await mkdtemp(join(tmpdir(), 'alarm-inserts-'));
  const { db } = await openDatabase(url, dir, () => {});
  t.after(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  return db;
}

const outboxRow = (i: number) => ({
  ticket_id: `t-${i}`,
  type: 'ticket.created',
  action: 'create',
  at: 1_000 + i,
  reason: i % 2 ? null : `r${i}`,
  ticket: '{}',
  state: 'pending',
  attempts: 0,
  leased_until: 0,
  settled_at: i % 2 ? undefined : 5,
  outcome_reason: null,
  target: null,
});

test('SQLite batch inserts: 7 rows (parts of 4, 2, 1) land whole and in order; undefined is null', async (t) => {
  const db = await database(t);
  const given = Array.from({ length: 7 }, (_, i) => outboxRow(i));
  await db.transaction().execute((tx) => insertRows(tx, 'flows_outbox', given));
  const rows = await db.selectFrom('flows_outbox').selectAll().orderBy('seq').execute();
  assert.deepEqual(
    rows.map((r) => [r.ticket_id, r.at, r.reason, r.settled_at]),
    given.map((g) => [g.ticket_id, g.at, g.reason, g.settled_at ?? null]),
  );
});

test('SQLite batch inserts: the tail answers only rows newly taken (ON CONFLICT … RETURNING), in every part', async (t) => {
  const db = await database(t);
  const row = (seq: number) => ({ unit_id: 'u-1', seq, received_at: seq });
  const tail = 'on conflict (unit_id, seq) do nothing returning unit_id, seq';
  const seqs = async (rows: readonly ReturnType<typeof row>[]) =>
    (await db.transaction().execute((tx) => insertRows(tx, 'alarm_inbox', rows, tail)))
      .flatMap((r) => r.rows.map((k) => Number(k.seq)))
      .sort((a, b) => a - b);
  assert.deepEqual(await seqs([1, 2, 3].map(row)), [1, 2, 3]);
  assert.deepEqual(await seqs([2, 3, 4, 5, 6, 7, 8].map(row)), [4, 5, 6, 7, 8]);
  const stored = await db.selectFrom('alarm_inbox').select('seq').orderBy('seq').execute();
  assert.deepEqual(
    stored.map((r) => Number(r.seq)),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
});

test('PostgreSQL batch inserts: 300 rows in one JSON parameter land in the order given', async (t) => {
  const db = await database(t, await postgres());
  const given = Array.from({ length: 300 }, (_, i) => ({ ...outboxRow(i), settled_at: null, ticket_id: `t-${(i * 7919) % 300}` }));
  await db.transaction().execute((tx) => insertJson(tx, 'flows_outbox', given));
  const rows = await db.selectFrom('flows_outbox').select('ticket_id').orderBy('seq').execute();
  assert.deepEqual(
    rows.map((r) => r.ticket_id),
    given.map((g) => g.ticket_id),
  );
});

test('PostgreSQL gathered inserts: two tables in one statement land whole and in order; one part failing fails them all', async (t) => {
  const db = await database(t, await postgres());
  const outbox = Array.from({ length: 50 }, (_, i) => ({ ...outboxRow(i), settled_at: null, ticket_id: `t-${(i * 7) % 50}` }));
  const inbox = [1, 2, 3].map((seq) => ({ unit_id: 'u-1', seq, received_at: seq }));
  const w = new JsonInserts();
  w.add('flows_outbox', outbox);
  w.add('alarm_inbox', inbox);
  w.add('alarm_inbox', [], sql`on conflict do nothing`);
  await db.transaction().execute((tx) => w.execute(tx));
  const seqs = async () => (await db.selectFrom('alarm_inbox').select('seq').orderBy('seq').execute()).map((r) => Number(r.seq));
  const tickets = async () => (await db.selectFrom('flows_outbox').select('ticket_id').orderBy('seq').execute()).map((r) => r.ticket_id);
  assert.deepEqual(
    await tickets(),
    outbox.map((g) => g.ticket_id),
  );
  assert.deepEqual(await seqs(), [1, 2, 3]);

  // A key taken fails the statement: the outbox rows gathered with it are not written either.
  const again = new JsonInserts();
  again.add('flows_outbox', outbox);
  again.add('alarm_inbox', [{ unit_id: 'u-1', seq: 3, received_at: 3 }]);
  await assert.rejects(
    db.transaction().execute((tx) => again.execute(tx)),
    /duplicate key/,
  );
  assert.equal((await tickets()).length, 50);
  assert.deepEqual(await seqs(), [1, 2, 3]);
});
