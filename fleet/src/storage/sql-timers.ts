import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';

/** A timer row as every timer table keeps it: whose (the owner column), which, when, fired by whom. */
export interface DueTimer {
  owner: string;
  kind: string;
  dueAt: number;
}

/** The owner's timer that follows one fired: the same row, re-armed in the claim's transaction. */
export interface NextTimer {
  kind: string;
  dueAt: number;
}

/** Tables of this shape: `<owner> text, kind text, due_at bigint, fired_at bigint null, fired_by text null`. */
type TimerTable = 'ticket_timers' | 'ota_timers' | 'media_timers' | 'flows_timers';

/**
 * Timers that fire exactly once across fleet instances, on the fleet's injected clock: rows due at
 * a time, polled by every instance, each claimed by a conditional update (`fired_at is null`) in
 * the same transaction as its effect — of two instances, or a retry after a crash, exactly one
 * sees it unfired (PostgreSQL re-checks the condition after waiting for the other's row lock), and
 * an effect that fails rolls its claim back for the next beat. The SQL equivalent of pg-boss's
 * `SKIP LOCKED` claim, kept because it runs on the injected clock (pg-boss schedules on the
 * database's) and on SQLite alike. Ticket deadlines, rollout waves and media retention share it, each in its table.
 *
 * A timer whose effect answers the owner's next timer is re-armed in place (its kind and due time
 * replaced, unfired again) instead of the next being a row of its own: a ticket's yellow → red →
 * escalate is one row, a third of the rows and index entries a storm's tickets wrote as three. The
 * claim's condition names the kind it read, so an instance that read the row before it moved on
 * claims nothing, as with a fired row.
 */
export class SqlTimers {
  readonly #table: TimerTable;
  readonly #owner: string;

  constructor(table: TimerTable, ownerColumn: string) {
    this.#table = table;
    this.#owner = ownerColumn;
  }

  /** Adds timers in the caller's transaction; one already set (same owner and kind) is kept. */
  async add(tx: Kysely<Database>, rows: readonly DueTimer[]): Promise<void> {
    for (const r of rows) {
      await sql`insert into ${sql.table(this.#table)} (${sql.ref(this.#owner)}, kind, due_at, fired_at, fired_by)
        values (${r.owner}, ${r.kind}, ${r.dueAt}, null, null) on conflict do nothing`.execute(tx);
    }
  }

  async due(db: Kysely<Database>, now: number, limit: number): Promise<DueTimer[]> {
    const r = await sql<{ owner: string; kind: string; due_at: number | string }>`select ${sql.ref(this.#owner)} as owner, kind, due_at
      from ${sql.table(this.#table)} where fired_at is null and due_at <= ${now} order by due_at limit ${limit}`.execute(db);
    return r.rows.map((row) => ({ owner: row.owner, kind: row.kind, dueAt: Number(row.due_at) }));
  }

  async #claim(tx: Kysely<Database>, t: DueTimer, now: number, by: string): Promise<boolean> {
    const r = await sql`update ${sql.table(this.#table)} set fired_at = ${now}, fired_by = ${by}
      where ${sql.ref(this.#owner)} = ${t.owner} and kind = ${t.kind} and fired_at is null`.execute(tx);
    return (r.numAffectedRows ?? 0n) > 0n;
  }

  /** The fired row becomes the owner's next timer, still locked by this transaction's claim. */
  async #rearm(tx: Kysely<Database>, t: DueTimer, next: NextTimer): Promise<void> {
    await sql`update ${sql.table(this.#table)} set kind = ${next.kind}, due_at = ${next.dueAt}, fired_at = null, fired_by = null
      where ${sql.ref(this.#owner)} = ${t.owner} and kind = ${t.kind}`.execute(tx);
  }

  /**
   * Fires every due timer this instance can claim, each with its effect in the claim's transaction;
   * returns how many. An effect may answer the owner's next timer: it re-arms the row, and fires
   * too in the same transaction if already due (a fleet down past a ticket's yellow and its red
   * fires both on its first beat, in order).
   */
  async fireDue(
    db: Kysely<Database>,
    now: number,
    by: string,
    fire: (tx: Kysely<Database>, t: DueTimer) => Promise<NextTimer | undefined>,
    limit = 500,
  ): Promise<number> {
    let fired = 0;
    for (const first of await this.due(db, now, limit)) {
      fired += await db.transaction().execute(async (tx) => {
        let t = first;
        for (let n = 1; ; n++) {
          if (!(await this.#claim(tx, t, now, by))) return n - 1;
          const next = await fire(tx, t);
          if (!next) return n;
          await this.#rearm(tx, t, next);
          if (next.dueAt > now) return n;
          t = { owner: t.owner, ...next };
        }
      });
    }
    return fired;
  }
}
