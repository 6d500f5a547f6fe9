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

function openSqlite(path: string): OpenedDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new DatabaseSync(path);
  // WAL: readers (the API) never wait for the write-behind flush; NORMAL is durable at checkpoints
  // and loses at most the last flush on power loss, which the units re-send (event-time keys).
  sqlite.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: kyselySqlite(sqlite) }) }), dialect: 'sqlite' };
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
