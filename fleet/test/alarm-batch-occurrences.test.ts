/**
 * An episode's first occurrence is its id and has no row of its own (migration 0016 deletes those
 * rows an older fleet wrote): the fingerprint lookup the loop decides with, the occurrences behind
 * a ticket and the alarms whose evidence is held read the same as with the row. Opened at 0015
 * with the rows of the old shape, then migrated; SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fingerprint } from '../src/domain/alarm-engine.ts';
import { alarmOccurrences, heldAlarms } from '../src/storage/alarm-occurrences.ts';
import { AlarmStore } from '../src/storage/alarm-store.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { AlarmRow } from '../src/storage/schema.ts';
import { databaseAt } from './migration-helper.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('alarm_occurrences');
const BEFORE = '0015-one-ticket-timer';

const alarm = (unitId: string, occurrence: string, raisedAt: number, ticketId: string | null): AlarmRow => ({
  episode: fingerprint(unitId, 'motion', occurrence),
  unit_id: unitId,
  kind: 'motion',
  source: 'unit',
  severity: 'major',
  priority: 'high',
  category: 'public-security',
  state: 'active',
  raised_at: raisedAt,
  received_at: raisedAt,
  cleared_at: null,
  updated_at: raisedAt,
  late: 0,
  repeats: 0,
  chatter: 0,
  inhibited_by: null,
  acked_by: null,
  acked_at: null,
  shelved_until: null,
  shelved_by: null,
  shelve_reason: null,
  lat: null,
  lon: null,
  value: null,
  message: null,
  ticket_id: ticketId,
  district: null,
});

/** Two episodes of one unit merged into ticket t-1, the first with a repeat folded in (occurrence a-2). */
const EPISODES = [alarm('u-1', 'a-1', 1_000, 't-1'), alarm('u-1', 'a-3', 2_000, 't-1')];
const FOLDED = { fingerprint: fingerprint('u-1', 'motion', 'a-2'), episode: EPISODES[0]?.episode as string };

function oldDatabase(url: string, dir: string): Promise<void> {
  return databaseAt(url, dir, BEFORE, async (db) => {
    await db.insertInto('alarms').values(EPISODES).execute();
    await db
      .insertInto('alarm_occurrences')
      .values([...EPISODES.map((a) => ({ fingerprint: a.episode, episode: a.episode })), FOLDED])
      .execute();
  });
}

for (const store of ['SQLite', 'PostgreSQL'] as const) {
  test(`${store}: an episode's first occurrence is read from its alarm row, before and after the rows of it are migrated away`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'alarm-occurrences-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const url = store === 'PostgreSQL' ? await postgres() : '';
    await oldDatabase(url, dir);
    const { db, dialect } = await openDatabase(url, dir, () => {});
    t.after(() => db.destroy());

    assert.deepEqual(
      (await db.selectFrom('alarm_occurrences').selectAll().execute()).map((r) => [r.fingerprint, r.episode]),
      [[FOLDED.fingerprint, FOLDED.episode]],
      'only the folded-in occurrence keeps a row',
    );
    const [first, second] = EPISODES.map((a) => a.episode) as [string, string];
    const known = await db
      .transaction()
      .execute((tx) =>
        new AlarmStore(db, dialect).byFingerprints(tx, [first, FOLDED.fingerprint, second, fingerprint('u-1', 'motion', 'none')]),
      );
    assert.deepEqual(
      [...known].map(([fp, r]) => [fp, r.episode]).sort(),
      [
        [first, first],
        [FOLDED.fingerprint, first],
        [second, second],
      ].sort(),
    );
    assert.deepEqual(await alarmOccurrences(db, { ticketId: 't-1' }), [
      { alarmId: 'a-3', episode: second, raisedAt: 2_000 },
      { alarmId: 'a-2', episode: first, raisedAt: null },
      { alarmId: 'a-1', episode: first, raisedAt: 1_000 },
    ]);
    assert.deepEqual(await alarmOccurrences(db, { episode: first }), [
      { alarmId: 'a-2', episode: first, raisedAt: null },
      { alarmId: 'a-1', episode: first, raisedAt: 1_000 },
    ]);
    assert.deepEqual([...((await heldAlarms(db)).get('u-1') ?? [])].sort(), ['a-1', 'a-2', 'a-3']);
  });
}
