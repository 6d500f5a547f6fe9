import { CompiledQuery, type Kysely, PostgresAdapter, type QueryResult, type RawBuilder, type SqlBool, sql } from 'kysely';
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
 * a batch's 1,500 ticket events (measured on this machine). Rows go in the order given (a serial
 * key follows it: the flows outbox's `seq`). `tail` is the rest of the statement (an ON CONFLICT
 * clause, RETURNING).
 */
export function insertJson<R extends object>(
  tx: Kysely<Database>,
  table: keyof Database,
  rows: readonly R[],
  tail: RawBuilder<unknown> = sql``,
): Promise<QueryResult<Record<string, unknown>>> {
  return jsonInsert(table, rows, tail).execute(tx);
}

function jsonInsert<R extends object>(
  table: keyof Database,
  rows: readonly R[],
  tail: RawBuilder<unknown>,
): RawBuilder<Record<string, unknown>> {
  const cols = sql.join(Object.keys(rows[0] ?? {}).map((c) => sql.ref(c)));
  return sql<
    Record<string, unknown>
  >`insert into ${sql.table(table)} (${cols}) select ${cols} from json_populate_recordset(null::${sql.table(table)}, ${JSON.stringify(rows)}::json) with ordinality as r order by r.ordinality ${tail}`;
}

/** The ON CONFLICT clause that writes `set` over the row already under the `key` columns. */
export function overwrite(key: readonly string[], set: readonly string[]): string {
  return `on conflict (${key.map((k) => `"${k}"`).join(', ')}) do update set ${set.map((k) => `"${k}" = excluded."${k}"`).join(', ')}`;
}

/**
 * `rows` inserted in as few statements as the store allows: one on PostgreSQL (`insertJson`), a
 * few prepared shapes on SQLite (`insertRows`). `tail` is fixed SQL (an ON CONFLICT clause). Several
 * statements on SQLite: the caller's transaction makes them one write.
 */
export async function insertAll<R extends object>(
  tx: Kysely<Database>,
  table: keyof Database,
  rows: readonly R[],
  tail = '',
): Promise<void> {
  if (rows.length === 0) return;
  if (onPostgres(tx)) await insertJson(tx, table, rows, sql.raw(tail));
  else await insertRows(tx, table, rows, tail);
}

/**
 * PostgreSQL only: `insertJson`s gathered and sent as one statement, each a data-modifying part of
 * its WITH (run once and to the end though nothing reads it), so a loop batch's writes cost one
 * round trip instead of one each: under a storm the fleet, the backends and the broker share the
 * cores, and every wait for an answer is a wait to be scheduled again. The parts see one snapshot
 * and none sees another's rows: only inserts of different rows belong together.
 */
export class JsonInserts {
  readonly #parts: RawBuilder<unknown>[] = [];
  #last: RawBuilder<unknown> = sql`select 1`;

  add<R extends object>(table: keyof Database, rows: readonly R[], tail: RawBuilder<unknown> = sql``): void {
    if (rows.length > 0) this.#parts.push(jsonInsert(table, rows, tail));
  }

  /** The statement the WITH ends with (its result is the statement's): a notification. */
  finish(last: RawBuilder<unknown>): void {
    this.#last = last;
  }

  /** Sends the parts gathered, if there are any. */
  async execute(tx: Kysely<Database>): Promise<void> {
    if (this.#parts.length === 0) return;
    const parts = this.#parts.splice(0).map((p, i) => sql`${sql.id(`w${i}`)} as (${p})`);
    await sql`with ${sql.join(parts)} ${this.#last}`.execute(tx);
  }
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

/**
 * Rows for SQLite's multi-row statements: `chunks` (the bound-parameter limit) cut further into
 * power-of-two counts, so a batch's statements are a few texts that stay prepared instead of a
 * new one, parsed again, for every batch size.
 */
export function sqliteParts<T extends object>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (const part of chunks(rows))
    for (let i = 0; i < part.length; ) {
      const n = 2 ** Math.floor(Math.log2(part.length - i));
      out.push(part.slice(i, i + n));
      i += n;
    }
  return out;
}

/** Statement texts of `insertRows`, by table, columns, row count and tail: a few dozen shapes. */
const texts = new Map<string, string>();

/**
 * SQLite only: inserts `rows` in multi-row statements whose text is written here and kept (see
 * `sqliteParts` for the counts), binding the values as they are. Kysely's `values()` builds and
 * compiles a node per value, the largest part of a storm batch's CPU on SQLite (~35–60 ms per
 * 500-alarm batch, `--cpu-prof` on the storm bench); this is a string looked up and an array
 * filled. Same columns and values as `values()` gives SQLite: the keys set in any row, a value
 * missing or undefined written as null. `tail` is fixed SQL (an ON CONFLICT clause, RETURNING).
 */
export async function insertRows<R extends object>(
  tx: Kysely<Database>,
  table: keyof Database,
  rows: readonly R[],
  tail = '',
): Promise<QueryResult<Record<string, unknown>>[]> {
  const cols: string[] = [];
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (v !== undefined && !cols.includes(k)) cols.push(k);
  const out: QueryResult<Record<string, unknown>>[] = [];
  for (const part of sqliteParts(rows)) {
    const key = `${table}|${cols.join(',')}|${part.length}|${tail}`;
    let text = texts.get(key);
    if (text === undefined) {
      const one = `(${cols.map(() => '?').join(', ')})`;
      text = `insert into "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) values ${Array(part.length).fill(one).join(', ')} ${tail}`;
      texts.set(key, text);
    }
    const params: unknown[] = [];
    for (const r of part) for (const c of cols) params.push((r as Record<string, unknown>)[c] ?? null);
    out.push(await tx.executeQuery(CompiledQuery.raw(text, params)));
  }
  return out;
}
