import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from './migrations.ts';
import { kyselySqlite } from './node-sqlite.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: Dialect;
}

/**
 * Opens the registry and state database and brings its schema up to date.
 *
 * `url`: `postgres://…` (or `postgresql://…`) for PostgreSQL, for several fleet instances
 * sharing one registry; `sqlite:<path>`, or empty for `<dataDir>/fleet.db`, for one instance.
 * `onConnectionLost` hears of a PostgreSQL connection the server closed while idle (a restart,
 * a failover, an administrator): the pool drops it and opens another on next use.
 */
export async function openDatabase(url: string, dataDir: string, onConnectionLost: (err: Error) => void): Promise<OpenedDatabase> {
  const opened = /^postgres(ql)?:\/\//.test(url)
    ? openPostgres(url, onConnectionLost)
    : openSqlite(url.replace(/^sqlite:/, '') || join(dataDir, 'fleet.db'));
  try {
    await migrate(opened.db);
  } catch (err) {
    await opened.db.destroy();
    throw err;
  }
  return opened;
}

/**
 * WAL pages past which a commit checkpoints (SQLite's default is 1,000, ~4 MB): a storm's
 * transactions write more than that, and the checkpoint then ran inside one of its commits
 * (3–30 ms on the event loop, `node:sqlite` being synchronous). The idle checkpoint below keeps
 * the log short; this is the backstop while writes never pause.
 */
const AUTOCHECKPOINT_PAGES = 10_000;
/** Writes paused this long: the log is copied into the database then, off any storm's way. */
const IDLE_CHECKPOINT_MS = 250;

function openSqlite(path: string): OpenedDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new DatabaseSync(path);
  // WAL: readers (the API) never wait for the write-behind flush. NORMAL syncs the log at each
  // checkpoint, not at each commit: a power loss (not a crash of the process) loses what was
  // committed since the last one, which the idle checkpoint bounds to the writes since writes last
  // paused for IDLE_CHECKPOINT_MS; units re-send what was not acknowledged (event-time keys).
  sqlite.exec(
    `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES};`,
  );
  const changes = sqlite.prepare('SELECT total_changes() AS n');
  let seen = 0;
  let checkpointed = 0;
  // A beat, not a timer per write: it costs one tiny query each IDLE_CHECKPOINT_MS.
  const idle = setInterval(() => {
    const n = Number((changes.get() as { n: number | bigint }).n);
    if (n !== seen) seen = n;
    else if (n !== checkpointed) {
      // PASSIVE: copies what no reader still needs, never waits for readers or blocks writers.
      sqlite.exec('PRAGMA wal_checkpoint(PASSIVE)');
      checkpointed = n;
    }
  }, IDLE_CHECKPOINT_MS);
  idle.unref();
  const database = kyselySqlite(sqlite);
  const close = database.close;
  database.close = () => {
    clearInterval(idle);
    close();
  };
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }), dialect: 'sqlite' };
}

/** int8 as a JS number: every 64-bit value here is a ms timestamp, far inside 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function openPostgres(url: string, onConnectionLost: (err: Error) => void): OpenedDatabase {
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // pg's pool re-emits an idle connection's error, and an 'error' event nobody listens to
  // crashes the process: one PostgreSQL restart would have taken every fleet instance down.
  pool.on('error', onConnectionLost);
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
}
