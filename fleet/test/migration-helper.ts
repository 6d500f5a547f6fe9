import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { migrationProvider } from '../src/storage/migrations.ts';
import { kyselySqlite } from '../src/storage/node-sqlite.ts';
import type { Database } from '../src/storage/schema.ts';

/**
 * A database migrated only up to `migration` (PostgreSQL at `url`, or SQLite at the fleet's file in
 * `dir` when `url` is empty), filled by `fill` in that older schema and closed: what a fleet opening
 * it with `openDatabase` then migrates the rest of the way.
 */
export async function databaseAt(
  url: string,
  dir: string,
  migration: string,
  fill: (db: Kysely<Database>) => Promise<void>,
): Promise<void> {
  const db = url
    ? new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) })
    : new Kysely<Database>({ dialect: new SqliteDialect({ database: kyselySqlite(new DatabaseSync(join(dir, 'fleet.db'))) }) });
  try {
    const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo(migration);
    assert.equal(error, undefined);
    await fill(db);
  } finally {
    await db.destroy();
  }
}
