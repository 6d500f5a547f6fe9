/**
 * Versioned on-device state (services/state-migrations.ts): each SQLite file carries its schema
 * version in user_version, the previous release still reads a file the new one migrated (the
 * rollback case), and a file from a newer release is opened as it stands, never refused.
 * "Another release" is played by opening with a longer or shorter migration list.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { buildRelease } from '../release/release.ts';
import { BulkStore } from '../src/services/bulk-store.ts';
import { Outbox } from '../src/services/outbox.ts';
import {
  BULK_MIGRATIONS,
  checked,
  type Migration,
  migrate,
  OUTBOX_MIGRATIONS,
  STATE_READABLE_FROM,
  STATE_VERSION,
  userVersion,
} from '../src/services/state-migrations.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function fileVersion(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return userVersion(db);
  } finally {
    db.close();
  }
}

const power = (ts: number) => ({ ts, soc: 80, batteryV: 13.1, solarW: 20, windW: 3, loadW: 5, state: 'full' as const });

/** The next release as a migration list: one additive step after this agent's last. */
function nextRelease(list: readonly Migration[], sql: string): Migration[] {
  return [...list, { version: STATE_VERSION + 1, sql }];
}

test('a new outbox, and one from before versioning, are stamped with the last migration; rows and seq survive', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'outbox.db');
  const box = Outbox.open(path, { quotaBytes: 1e6 });
  assert.deepEqual(box.schema, { from: 0, to: OUTBOX_MIGRATIONS.at(-1)?.version, newer: false });
  box.enqueue('power', power(1));
  box.close();
  assert.equal(fileVersion(path), OUTBOX_MIGRATIONS.at(-1)?.version);

  // What every unit in the field has today: the tables, user_version 0.
  const raw = new DatabaseSync(path);
  raw.exec('PRAGMA user_version = 0');
  raw.close();
  const again = Outbox.open(path, { quotaBytes: 1e6 });
  t.after(() => again.close());
  assert.equal(again.schema.from, 0);
  assert.equal(again.schema.to, OUTBOX_MIGRATIONS.at(-1)?.version);
  assert.equal(again.size().count, 1, 'the backlog is kept');
  assert.equal(again.enqueue('power', power(2)).seq, 1, 'seq goes on from the file');
  assert.equal(fileVersion(path), OUTBOX_MIGRATIONS.at(-1)?.version);
});

test('an outbox the next release migrated is read and written by this one after a rollback, and left at its version', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'outbox.db');
  const next = nextRelease(
    OUTBOX_MIGRATIONS,
    'ALTER TABLE outbox ADD COLUMN trace TEXT; ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0; CREATE TABLE IF NOT EXISTS sent_log (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL);',
  );
  const newer = Outbox.open(path, { quotaBytes: 1e6, migrations: next });
  assert.equal(newer.schema.to, STATE_VERSION + 1);
  newer.enqueue('event', { ts: 1, kind: 'fault', reason: 'gps silent' });
  newer.enqueue('power', power(2));
  newer.close();
  // The next release writes its own column too.
  const raw = new DatabaseSync(path);
  raw.exec(`UPDATE outbox SET trace = 'x', tries = 2`);
  raw.close();

  const previous = Outbox.open(path, { quotaBytes: 1e6 });
  t.after(() => previous.close());
  assert.deepEqual(previous.schema, { from: STATE_VERSION + 1, to: STATE_VERSION + 1, newer: true });
  const rows = previous.next(10);
  assert.deepEqual(
    rows.map((r) => [r.seq, r.kind]),
    [
      [0, 'event'],
      [1, 'power'],
    ],
  );
  assert.equal(previous.enqueue('power', power(3)).seq, 2, 'the previous release appends after the new one’s rows');
  previous.ack(rows.map((r) => r.id));
  assert.deepEqual(
    previous.next(10).map((r) => r.seq),
    [2],
  );
  assert.equal(fileVersion(path), STATE_VERSION + 1, 'never stamped back: the next release finds its columns');
});

test('a bulk.db from a newer release opens (its index whole), not refused', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'bulk.db');
  const next = nextRelease(BULK_MIGRATIONS, `ALTER TABLE bulk ADD COLUMN codec TEXT DEFAULT 'h264'`);
  const raw = new DatabaseSync(path);
  migrate(raw, next);
  raw
    .prepare('INSERT INTO bulk (recording, kind, path, size, sha256, priority, pinned, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run('clip-1', 'clip', join(dir, 'clip-1.mp4'), 10, Buffer.alloc(32), 1, 1, '{}', 5);
  raw.close();

  const store = BulkStore.open(path, { quotaBytes: 1e6, now: () => 0 });
  t.after(() => store.close());
  assert.deepEqual(store.schema, { from: STATE_VERSION + 1, to: STATE_VERSION + 1, newer: true });
  assert.deepEqual(
    store.list().map((i) => [i.recording, i.pinned]),
    [['clip-1', true]],
  );
  assert.equal(fileVersion(path), STATE_VERSION + 1);
});

test('a new bulk.db carries its schema version', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'bulk.db');
  BulkStore.open(path, { quotaBytes: 1e6, now: () => 0 }).close();
  assert.equal(fileVersion(path), BULK_MIGRATIONS.at(-1)?.version);
});

test('a step that fails leaves the file at the version before it', async (t) => {
  const dir = await tempDir(t);
  const db = new DatabaseSync(join(dir, 'x.db'));
  t.after(() => db.close());
  const list = [
    { version: 1, sql: 'CREATE TABLE a (x INTEGER)' },
    { version: 2, sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1)' },
  ];
  assert.throws(() => migrate(db, list), /nowhere/);
  assert.equal(userVersion(db), 1);
  assert.equal(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'b'`).get()?.n, 0, 'the failed step left nothing');
});

test('a migration list the previous release could not live with is refused when it loads', () => {
  const refused = (sql: string) => assert.throws(() => checked('t', [{ version: 1, sql }]), /not additive/, sql);
  refused('DROP TABLE outbox');
  refused('ALTER TABLE outbox DROP COLUMN bytes');
  refused('ALTER TABLE outbox RENAME COLUMN bytes TO size');
  refused('ALTER TABLE outbox RENAME TO queue');
  refused('DROP INDEX outbox_order');
  refused('ALTER TABLE outbox ADD COLUMN trace TEXT NOT NULL');
  refused('ALTER TABLE outbox ADD trace TEXT NOT NULL; CREATE TABLE t (x INTEGER DEFAULT 0)');
  for (const sql of [
    'ALTER TABLE outbox ADD COLUMN trace TEXT',
    'ALTER TABLE outbox ADD COLUMN tries INTEGER NOT NULL DEFAULT 0',
    'CREATE TABLE IF NOT EXISTS t (x INTEGER NOT NULL)',
    'CREATE INDEX IF NOT EXISTS t_x ON t (x)',
  ]) {
    assert.doesNotThrow(() => checked('t', [{ version: 1, sql }]), sql);
  }
  assert.throws(
    () =>
      checked('t', [
        { version: 2, sql: 'CREATE TABLE a (x INTEGER)' },
        { version: 2, sql: 'CREATE TABLE b (x INTEGER)' },
      ]),
    /must increase/,
  );
});

test('the release tool puts the agent’s state version and readability in the manifest', async (t) => {
  const dir = await tempDir(t);
  const { manifest } = await buildRelease({ version: '9.9.9', out: dir, bundle: Buffer.from('agent'), now: 0 });
  assert.equal(STATE_VERSION, Math.max(...[...OUTBOX_MIGRATIONS, ...BULK_MIGRATIONS].map((m) => m.version)));
  assert.equal(manifest.stateVersion, STATE_VERSION);
  assert.equal(manifest.stateReadableFrom, STATE_READABLE_FROM);
});
