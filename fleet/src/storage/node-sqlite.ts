import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept prepared: the fleet's queries are a few dozen shapes. */
const CACHE_MAX = 256;

/**
 * Node's built-in `node:sqlite` behind the interface Kysely's SqliteDialect expects (shaped after
 * better-sqlite3): no native addon to build or download. Statements are kept prepared by their SQL
 * text (Kysely runs one statement at a time on its one connection), so a query run per alarm is
 * parsed once, not per call.
 */
export function kyselySqlite(db: DatabaseSync): SqliteDatabase {
  const cache = new Map<string, { stmt: StatementSync; reader: boolean }>();
  return {
    close: () => db.close(),
    prepare(sql) {
      let hit = cache.get(sql);
      if (!hit) {
        const stmt = db.prepare(sql);
        // A statement that yields columns is a reader (SELECT, or anything with RETURNING).
        hit = { stmt, reader: stmt.columns().length > 0 };
        if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
        cache.set(sql, hit);
      }
      const { stmt, reader } = hit;
      const args = (p: readonly unknown[]) => p as SQLInputValue[];
      return {
        reader,
        all: (p) => stmt.all(...args(p)),
        run: (p) => stmt.run(...args(p)),
        iterate: (p) => stmt.iterate(...args(p)),
      };
    },
  };
}
