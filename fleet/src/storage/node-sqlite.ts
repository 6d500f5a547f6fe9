import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { SqliteDatabase } from 'kysely';

/**
 * Node's built-in `node:sqlite` behind the interface Kysely's SqliteDialect expects (shaped after
 * better-sqlite3): no native addon to build or download.
 */
export function kyselySqlite(db: DatabaseSync): SqliteDatabase {
  return {
    close: () => db.close(),
    prepare(sql) {
      const stmt = db.prepare(sql);
      const args = (p: readonly unknown[]) => p as SQLInputValue[];
      return {
        // A statement that yields columns is a reader (SELECT, or anything with RETURNING).
        reader: stmt.columns().length > 0,
        all: (p) => stmt.all(...args(p)),
        run: (p) => stmt.run(...args(p)),
        iterate: (p) => stmt.iterate(...args(p)),
      };
    },
  };
}
