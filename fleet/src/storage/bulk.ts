import { type Kysely, PostgresAdapter, type QueryResult, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database } from './schema.ts';

/** Whether `db` runs on PostgreSQL (asked of the adapter, as the migrations do). */
export function onPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Inserts `rows` (all with the same keys, the table's column names) in one statement that binds
 * one JSON parameter: PostgreSQL unpacks it by `json_populate_recordset` into the table's own
 * column types, SQLite by `json_each` (JSON numbers and strings land as INTEGER/REAL and TEXT,
 * which is what these rows hold). A multi-row VALUES list binds a parameter per value: the server
 * parses and binds thousands of them and the query builder builds a node per value, about twice
 * the time for a batch's 1,500 ticket events on PostgreSQL, and on SQLite the builder's work per
 * value was the largest part of a storm batch's CPU (measured on this machine). The statement's
 * text is the same whatever the batch's size, so it stays prepared. `tail` is the rest of the
 * statement (an ON CONFLICT clause, RETURNING).
 */
export function insertJson<R extends object>(
  tx: Kysely<Database>,
  table: keyof Database,
  rows: readonly R[],
  tail: RawBuilder<unknown> = sql``,
): Promise<QueryResult<Record<string, unknown>>> {
  const keys = Object.keys(rows[0] ?? {});
  const cols = sql.join(keys.map((c) => sql.ref(c)));
  const json = JSON.stringify(rows);
  if (onPostgres(tx))
    return sql<
      Record<string, unknown>
    >`insert into ${sql.table(table)} (${cols}) select ${cols} from json_populate_recordset(null::${sql.table(table)}, ${json}::json) ${tail}`.execute(
      tx,
    );
  const values = sql.join(keys.map((c) => sql`json_extract(value, ${sql.lit(`$.${c}`)})`));
  // `where true`: SQLite reads an ON CONFLICT after a bare `select … from` as a join's constraint.
  return sql<
    Record<string, unknown>
  >`insert into ${sql.table(table)} (${cols}) select ${values} from json_each(${json}) where true ${tail}`.execute(tx);
}

/**
 * `column` is one of `values`, binding one parameter however many there are: an array on
 * PostgreSQL, a JSON array on SQLite. The statement's text stays the same whatever the batch's
 * size, so it is parsed once and stays prepared (an `in` list of N placeholders is a new text for
 * every N).
 */
export function isOneOf(postgres: boolean, column: string, values: readonly string[]): RawBuilder<SqlBool> {
  return postgres
    ? sql<SqlBool>`${sql.ref(column)} = any(${[...values]}::text[])`
    : sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(values)}))`;
}
