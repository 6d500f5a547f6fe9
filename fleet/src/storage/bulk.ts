import { type Kysely, PostgresAdapter, type QueryResult, type RawBuilder, sql } from 'kysely';
import { chunks } from './chunks.ts';
import type { Database } from './schema.ts';

/** Whether `db` runs on PostgreSQL (asked of the adapter, as the migrations do). */
export function onPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * PostgreSQL only: inserts `rows` (all with the same keys, the table's column names) in one
 * statement that binds one JSON parameter, unpacked by `json_populate_recordset` into the table's
 * own column types. A multi-row VALUES list binds a parameter per value: PostgreSQL parses and
 * binds thousands of them and the query builder builds a node per value, about twice the time for
 * a batch's 1,500 ticket events (measured on this machine). `tail` is the rest of the statement
 * (an ON CONFLICT clause, RETURNING).
 */
export function insertJson<R extends object>(
  tx: Kysely<Database>,
  table: keyof Database,
  rows: readonly R[],
  tail: RawBuilder<unknown> = sql``,
): Promise<QueryResult<Record<string, unknown>>> {
  const cols = sql.join(Object.keys(rows[0] ?? {}).map((c) => sql.ref(c)));
  return sql<
    Record<string, unknown>
  >`insert into ${sql.table(table)} (${cols}) select ${cols} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::json) ${tail}`.execute(
    tx,
  );
}

/** PostgreSQL only: `column = any(values)`, one array parameter however many values. */
export function anyOf(values: readonly string[]): RawBuilder<string> {
  return sql<string>`any(${[...values]}::text[])`;
}

/** Values for `in` lists, cut to SQLite's bound-parameter limit; on PostgreSQL one part, for `anyOf`. */
export function inParts(postgres: boolean, values: readonly string[]): string[][] {
  if (postgres) return values.length > 0 ? [[...values]] : [];
  return chunks(values.map((v) => ({ v }))).map((part) => part.map((p) => p.v));
}
