/**
 * SQLite under a storm (storage/open.ts): a storm's commits do not checkpoint the write-ahead log
 * inside them (past SQLite's default of 1,000 pages), and once writes pause the log is copied into
 * the database (and synced) on its own, so a power loss loses no more than the writes since then.
 * What was checkpointed is read from the WAL index (`fleet.db-shm`): its header's last frame
 * (`mxFrame`, offset 16) and how many frames are in the database file (`nBackfill`, offset 96).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../src/storage/open.ts';
import { tempDir, waitFor } from './helpers.ts';

test('SQLite: a storm-sized transaction commits without a checkpoint; the log is checkpointed once writes pause', async (t) => {
  const dir = await tempDir(t);
  const { db } = await openDatabase('', dir, () => {});
  t.after(() => db.destroy());
  const frames = async () => {
    const shm = await readFile(join(dir, 'fleet.db-shm'));
    return { last: shm.readUInt32LE(16), backfilled: shm.readUInt32LE(96) };
  };
  await sql`CREATE TABLE storm (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`.execute(db);
  await waitFor(async () => {
    const f = await frames();
    return f.last > 0 && f.backfilled === f.last;
  });
  // ~6 MB of rows in one commit: more than SQLite's default checkpoint threshold (1,000 pages of 4 kB).
  const body = 'x'.repeat(3000);
  await db.transaction().execute(async (tx) => {
    for (let i = 0; i < 2000; i++) await sql`INSERT INTO storm (body) VALUES (${body})`.execute(tx);
  });
  const committed = await frames();
  assert.ok(committed.last > 1000, `the storm wrote ${committed.last} frames`);
  assert.ok(committed.backfilled < 1000, `not checkpointed at commit (${committed.backfilled} of ${committed.last} frames backfilled)`);
  await waitFor(async () => (await frames()).backfilled === committed.last, 3000);
});
