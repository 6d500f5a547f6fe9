import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { SqlTimers } from './sql-timers.ts';

/** Timer tables of one job each (`job`, `kind` = the interval's number): SqlTimers fires every due row of its table. */
type JobTable = 'media_timers' | 'flows_timers';

/**
 * A job that runs once per interval across every fleet instance: each instance arms the current
 * interval's timer row (kept if another armed it) and polls; the one that claims the due row
 * (storage/sql-timers.ts) arms the next interval's and drops fired rows before it, in the claim's
 * transaction, then runs the job outside it.
 */
export class IntervalRuns {
  readonly #timers: SqlTimers;
  readonly #table: JobTable;
  readonly #job: string;
  readonly #intervalMs: number;

  constructor(o: { table: JobTable; job: string; intervalMs: number }) {
    this.#timers = new SqlTimers(o.table, 'job');
    this.#table = o.table;
    this.#job = o.job;
    this.#intervalMs = o.intervalMs;
  }

  async arm(db: Kysely<Database>, now: number): Promise<void> {
    await this.#timers.add(db, [this.#slot(now)]);
  }

  /** Whether this instance claimed a due run (false: none was due, or another instance had it). */
  async claim(db: Kysely<Database>, now: number, by: string): Promise<boolean> {
    const fired = await this.#timers.fireDue(db, now, by, async (tx, t) => {
      await this.#timers.add(tx, [this.#slot(now + this.#intervalMs)]);
      await tx
        .deleteFrom(this.#table)
        .where('job', '=', this.#job)
        .where('due_at', '<', t.dueAt)
        .where('fired_at', 'is not', null)
        .execute();
    });
    return fired > 0;
  }

  #slot(at: number): { owner: string; kind: string; dueAt: number } {
    const n = Math.floor(at / this.#intervalMs);
    return { owner: this.#job, kind: String(n), dueAt: n * this.#intervalMs };
  }
}
