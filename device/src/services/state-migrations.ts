import type { DatabaseSync } from 'node:sqlite';
import type { Logger } from 'pino';

/**
 * The schema history of the agent's SQLite files, and the state version a release carries in its
 * manifest (`stateVersion`). Each file keeps in `PRAGMA user_version` the version of the last
 * migration applied to it.
 *
 * An update must survive its own rollback: the launcher may start the previous release on the
 * files the new one has already migrated. So every migration is additive (a new table, index, or a
 * column the old statements need not name: nullable or with a default), never a rename or a drop;
 * the stores' statements name their columns, so the previous release reads and writes the file as
 * before. For the same reason a file from a newer agent (user_version above the last migration
 * this agent knows) is opened as it stands and reported, never refused and never stamped back.
 *
 * Every list lives here, tagged with the state version that introduced each step, so that
 * STATE_VERSION is the highest of them and cannot fall behind a store's schema.
 */
export interface Migration {
  /** The agent state version that introduced this step. */
  version: number;
  sql: string;
}

export interface MigrationResult {
  /** user_version found on open (0: a file from before versioning, or a new one). */
  from: number;
  /** user_version after open; equal to `from` when the file is already current or newer. */
  to: number;
  /** The file was written by an agent with a newer state version than this one. */
  newer: boolean;
}

// A rename or drop, an ALTER other than ADD, or an added NOT NULL column without a default (the previous release's INSERTs do not name it).
const NOT_ADDITIVE = [
  /\bDROP\b/i,
  /\bRENAME\b/i,
  /\bALTER\s+TABLE\s+\S+\s+(?!ADD\b)/i,
  /\bADD\s+(COLUMN\s+)?(?:(?!\bDEFAULT\b)[^;])*\bNOT\s+NULL\b(?:(?!\bDEFAULT\b)[^;])*(;|$)/i,
];

/**
 * Refuses, when the module loads, a list that the previous release could not live with: versions
 * not strictly increasing, or a step that is not additive.
 */
export function checked(store: string, migrations: Migration[]): readonly Migration[] {
  let last = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= last) throw new Error(`${store} migration ${m.version}: versions must increase`);
    last = m.version;
    const bad = NOT_ADDITIVE.find((re) => re.test(m.sql));
    if (bad)
      throw new Error(`${store} migration ${m.version} is not additive (${bad.source}): the previous release could not read the file`);
  }
  return migrations;
}

export const OUTBOX_MIGRATIONS: readonly Migration[] = checked('outbox', [
  {
    version: 1,
    // IF NOT EXISTS: files from before versioning (user_version 0) already hold these tables.
    sql: `
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (key, value) VALUES ('seq', -1);
      CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        seq INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        payload TEXT NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority, id);`,
  },
]);

export const BULK_MIGRATIONS: readonly Migration[] = checked('bulk', [
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS bulk (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        recording TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 BLOB NOT NULL,
        priority INTEGER NOT NULL,
        pinned INTEGER NOT NULL,
        meta TEXT NOT NULL,
        created INTEGER NOT NULL,
        sent TEXT NOT NULL DEFAULT '[]',
        state TEXT NOT NULL DEFAULT 'sending'
      );`,
  },
]);

/** The on-device state version this agent writes: the release tool puts it in `manifest.stateVersion`. */
export const STATE_VERSION = Math.max(...[...OUTBOX_MIGRATIONS, ...BULK_MIGRATIONS].map((m) => m.version));

/**
 * The lowest state version whose agent can still read what this one writes (`manifest.stateReadableFrom`).
 * Additive migrations keep it at 1; a release that has to break the rule raises it here, and a unit
 * running an older state version refuses that release, because after a rollback its agent could
 * not read its own files.
 */
export const STATE_READABLE_FROM = 1;

/** Brings the file up to the last migration of `migrations`, each step in its own transaction. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[]): MigrationResult {
  const from = userVersion(db);
  const known = migrations.at(-1)?.version ?? 0;
  if (from >= known) return { from, to: from, newer: from > known };
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(m.sql);
      // Inside the transaction: a cut between the step and its stamp leaves neither.
      db.exec(`PRAGMA user_version = ${m.version}`);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }
  return { from, to: known, newer: false };
}

export function userVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
}

/** One line per file opened: a migration, or a file from a newer release that this one reads as it stands. */
export function logSchema(log: Logger, file: string, r: MigrationResult): void {
  if (r.newer)
    log.warn({ file, userVersion: r.from, stateVersion: STATE_VERSION }, 'state written by a newer release: opened as it stands');
  else if (r.to !== r.from) log.info({ file, from: r.from, to: r.to }, 'state migrated');
}
