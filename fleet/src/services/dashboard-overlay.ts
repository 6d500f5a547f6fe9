import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type CellTickets, changedUnits, sameCells, type UnitAlarms } from '../domain/dashboard-overlay.ts';
import { openTicketsByCell, standingAlarms } from '../storage/dashboard-overlay.ts';
import type { Database } from '../storage/schema.ts';

interface OverlayEvents {
  /** A unit's standing alarms changed (null: none stand any more). */
  alarms: [unitId: string, alarms: UnitAlarms | null];
  /** Some cell's open tickets changed: every cell with an open ticket. */
  cells: [cells: CellTickets[]];
}

/**
 * The dashboard's overlay, read from the database on a beat rather than from the alarm loop's
 * calls: another instance may have taken the alarm or moved the ticket, and the tables are where
 * every instance's changes meet. Emits only what changed since the last read.
 */
export class DashboardOverlay extends EventEmitter<OverlayEvents> {
  readonly #db: Kysely<Database>;
  readonly #now: () => number;
  readonly #log: Logger;
  #alarms = new Map<string, UnitAlarms>();
  #cells: CellTickets[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading: Promise<void> = Promise.resolve();

  constructor(o: { db: Kysely<Database>; now: () => number; log: Logger }) {
    super();
    this.#db = o.db;
    this.#now = o.now;
    this.#log = o.log;
  }

  alarmsOf(unitId: string): UnitAlarms | null {
    return this.#alarms.get(unitId) ?? null;
  }

  get cells(): readonly CellTickets[] {
    return this.#cells;
  }

  /** Reads both now, then every `everyMs`; a failed read is logged and the next beat retries. */
  async start(everyMs: number): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => {
      this.#reading = this.refresh().catch((err: unknown) => this.#log.warn({ err }, 'dashboard overlay read failed; next beat retries'));
    }, everyMs);
  }

  async refresh(): Promise<void> {
    const [alarms, cells] = await Promise.all([standingAlarms(this.#db, this.#now()), openTicketsByCell(this.#db)]);
    const changed = changedUnits(this.#alarms, alarms);
    this.#alarms = alarms;
    for (const id of changed) this.emit('alarms', id, alarms.get(id) ?? null);
    if (!sameCells(this.#cells, cells)) {
      this.#cells = cells;
      this.emit('cells', cells);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#reading;
  }
}
