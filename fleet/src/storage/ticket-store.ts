import type { Kysely } from 'kysely';
import type { Database, TicketEventRow, TicketRow, TicketTimerRow } from './schema.ts';

export interface TicketFilter {
  state?: string;
  open?: boolean;
  district?: string;
  street?: string;
  community?: string;
  cell?: string;
  department?: string;
  light?: string;
  limit: number;
}

/** Tickets, their event log and their deadline timers (SQLite and PostgreSQL alike). */
export class TicketStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }

  /** The open ticket of a unit's alarm kind, if any: repeats merge into it. */
  openFor(tx: Kysely<Database>, unitId: string, kind: string): Promise<TicketRow | undefined> {
    return tx
      .selectFrom('tickets')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('alarm_kind', '=', kind)
      .where('state', '!=', 'closed')
      .orderBy('opened_at')
      .limit(1)
      .executeTakeFirst();
  }

  /** Inserts unless a ticket with the same idempotency key exists; true when inserted. */
  async insert(tx: Kysely<Database>, row: TicketRow): Promise<boolean> {
    const r = await tx
      .insertInto('tickets')
      .values(row)
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  byKey(tx: Kysely<Database>, key: string): Promise<TicketRow | undefined> {
    return tx.selectFrom('tickets').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  }

  get(tx: Kysely<Database>, id: string): Promise<TicketRow | undefined> {
    return tx.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Moves a ticket only from the state it was read in: a concurrent move makes this false (409). */
  async move(tx: Kysely<Database>, id: string, from: string, patch: Partial<TicketRow>): Promise<boolean> {
    const r = await tx.updateTable('tickets').set(patch).where('id', '=', id).where('state', '=', from).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async patch(tx: Kysely<Database>, id: string, patch: Partial<TicketRow>): Promise<void> {
    await tx.updateTable('tickets').set(patch).where('id', '=', id).execute();
  }

  async events(tx: Kysely<Database>, rows: readonly TicketEventRow[]): Promise<void> {
    await tx
      .insertInto('ticket_events')
      .values([...rows])
      .execute();
  }

  timeline(ticketId: string): Promise<TicketEventRow[]> {
    return this.#db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticketId).orderBy('at').orderBy('id').execute();
  }

  async addTimers(tx: Kysely<Database>, rows: readonly TicketTimerRow[]): Promise<void> {
    await tx
      .insertInto('ticket_timers')
      .values([...rows])
      .onConflict((oc) => oc.columns(['ticket_id', 'kind']).doNothing())
      .execute();
  }

  list(f: TicketFilter): Promise<TicketRow[]> {
    let q = this.#db.selectFrom('tickets').selectAll();
    if (f.state) q = q.where('state', '=', f.state);
    if (f.open) q = q.where('state', '!=', 'closed');
    for (const k of ['district', 'street', 'community', 'cell', 'department', 'light'] as const) {
      const v = f[k];
      if (v) q = q.where(k, '=', v);
    }
    return q.orderBy('deadline_at').limit(f.limit).execute();
  }

  /** Tickets opened in a period and their whole event log, for KPIs. */
  async forKpis(
    from: number,
    to: number,
  ): Promise<{ tickets: TicketRow[]; events: Pick<TicketEventRow, 'ticket_id' | 'at' | 'action'>[] }> {
    const tickets = await this.#db.selectFrom('tickets').selectAll().where('opened_at', '>=', from).where('opened_at', '<', to).execute();
    const events = await this.#db
      .selectFrom('ticket_events as e')
      .innerJoin('tickets as t', 't.id', 'e.ticket_id')
      .select(['e.ticket_id', 'e.at', 'e.action'])
      .where('t.opened_at', '>=', from)
      .where('t.opened_at', '<', to)
      .execute();
    return { tickets, events };
  }
}
