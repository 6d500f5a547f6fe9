/**
 * The loop batch writes an episode it opened by plain insert (storage/loop-batch.ts, alarm-store.ts
 * `saveMany`): it holds the unit's lock and found the episode's id nowhere, so a row of that id
 * already there is a bug (something wrote it without the lock, or the lookup missed it). Such a
 * batch fails at its flush and rolls back whole, instead of an upsert overwriting the row; the
 * intake's retry reads the row then and goes on from it, so the unit is not wedged. Episodes the
 * batch loaded are updated, their district kept where they were first routed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { AlarmRecord } from '../src/domain/alarm-engine.ts';
import { AlarmStore } from '../src/storage/alarm-store.ts';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { LoopBatch } from '../src/storage/loop-batch.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { Database } from '../src/storage/schema.ts';
import { TicketStore } from '../src/storage/ticket-store.ts';
import { alarmRecord } from './alarm-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('batch_episodes');
const NOW = Date.parse('2026-09-24T15:00+08:00');
const EPISODE = 'u-1~motion~a-1';

const record = (patch: Partial<AlarmRecord> = {}): AlarmRecord => alarmRecord('u-1', NOW, patch);

async function setup(t: TestContext, store: 'SQLite' | 'PostgreSQL') {
  const dir = await mkdtemp(join(tmpdir(), 'batch-episodes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { db, dialect } = await openDatabase(store === 'PostgreSQL' ? await postgres() : '', dir, () => {});
  t.after(() => db.destroy());
  const stores = { alarms: new AlarmStore(db, dialect), tickets: new TicketStore(db), outbox: new FlowsOutbox(db) };
  /** One batch on unit u-1, as the alarm service runs it: open, decide, flush, in one transaction. */
  const batch = (decide: (b: LoopBatch, tx: Kysely<Database>) => Promise<void>) =>
    db.transaction().execute(async (tx) => {
      const b = await LoopBatch.open(tx, stores, ['u-1'], [EPISODE]);
      await decide(b, tx);
      await b.flush();
    });
  const stored = async () =>
    (await db.selectFrom('alarms').select(['episode', 'repeats', 'district', 'message']).execute()).map((r) => ({ ...r }));
  return { batch, stored };
}

for (const store of ['SQLite', 'PostgreSQL'] as const) {
  test(`${store}: an episode the batch opened is inserted; one it loaded is updated, its district kept`, async (t) => {
    const { batch, stored } = await setup(t, store);
    await batch(async (b) => {
      assert.equal(await b.known(EPISODE), undefined);
      b.save(record(), EPISODE, 'd-1');
    });
    await batch(async (b) => {
      const known = await b.known(EPISODE);
      assert.ok(known, 'the second batch loads the episode');
      b.save({ ...known, repeats: 1 }, EPISODE, 'd-2');
    });
    assert.deepEqual(await stored(), [{ episode: EPISODE, repeats: 1, district: 'd-1', message: null }]);
  });

  test(`${store}: an opened episode whose row is there after all fails the batch whole; the retry goes on from the row`, async (t) => {
    const { batch, stored } = await setup(t, store);
    const stray = record({ message: 'written without the unit lock' });
    await assert.rejects(
      batch(async (b, tx) => {
        assert.equal(await b.known(EPISODE), undefined);
        b.save(record(), EPISODE, 'd-1');
        // The bug this guards against: a row of the episode the batch's lookup did not see.
        await new AlarmStore(tx, store === 'PostgreSQL' ? 'postgres' : 'sqlite').saveMany(
          tx,
          [{ record: stray, district: 'd-9', opened: true }],
          [],
        );
      }),
      /unique|duplicate/i,
    );
    assert.deepEqual(await stored(), [], 'the failed batch left nothing, the stray row included (same transaction)');

    // The intake retries the batch; with the row committed before it, the retry finds and updates it.
    await batch(async (b) => b.save(stray, EPISODE, 'd-9'));
    await batch(async (b) => {
      const known = await b.known(EPISODE);
      assert.equal(known?.message, 'written without the unit lock');
      b.save({ ...(known as AlarmRecord), repeats: 1 }, EPISODE, 'd-1');
    });
    assert.deepEqual(await stored(), [{ episode: EPISODE, repeats: 1, district: 'd-9', message: 'written without the unit lock' }]);
  });
}
