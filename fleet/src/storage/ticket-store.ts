import { type Kysely, sql } from 'kysely';
import { OPENING, openingDetail, openingMoves } from '../domain/ticket-flow.ts';
import { insertJson, insertRows, isOneOf, type JsonInserts, onPostgres } from './bulk.ts';
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
  /** Ids that start with this (a person types the first characters, as with git). */
  idPrefix?: string;
  limit: number;
}

/** Tickets, their event log and their deadline timers, one row per ticket (SQLite and PostgreSQL alike). */
export class TicketStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }

  /**
   * What a loop batch starts from, in one query: the tickets not closed of these units, and the
   * tickets (closed too) of these idempotency keys (one episode, one ticket ever); oldest first, as a
   * repeat merges into its kind's oldest.
   */
  startOfBatch(tx: Kysely<Database>, unitIds: readonly string[], keys: readonly string[]): Promise<TicketRow[]> {
    const postgres = onPostgres(tx);
    return tx
      .selectFrom('tickets')
      .selectAll()
      .where((eb) =>
        eb.or([eb.and([isOneOf(postgres, 'unit_id', unitIds), eb('state', '!=', 'closed')]), isOneOf(postgres, 'idempotency_key', keys)]),
      )
      .orderBy('opened_at')
      .execute();
  }

  /** Tickets by idempotency key (one episode, one ticket ever). */
  byKeys(tx: Kysely<Database>, keys: readonly string[]): Promise<TicketRow[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return tx
      .selectFrom('tickets')
      .selectAll()
      .where(isOneOf(onPostgres(tx), 'idempotency_key', keys))
      .orderBy('opened_at')
      .execute();
  }

  /**
   * Inserts new tickets; an idempotency key taken meanwhile (the units are locked: a bug) fails the
   * statement on its unique index, and so the batch. A plain insert: ON CONFLICT would probe that
   * index once more per row for a conflict that cannot happen. On PostgreSQL, given `into`, they
   * are gathered there to go with the batch's other writes (see `JsonInserts`), as are `events`
   * and `addTimers` given it.
   */
  async insertMany(tx: Kysely<Database>, rows: readonly TicketRow[], into?: JsonInserts): Promise<void> {
    if (onPostgres(tx)) {
      if (into) into.add('tickets', rows);
      else if (rows.length > 0) await insertJson(tx, 'tickets', rows);
      return;
    }
    await insertRows(tx, 'tickets', rows);
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

  async events(tx: Kysely<Database>, rows: readonly TicketEventRow[], into?: JsonInserts): Promise<void> {
    if (onPostgres(tx)) {
      if (into) into.add('ticket_events', rows);
      else if (rows.length > 0) await insertJson(tx, 'ticket_events', rows);
      return;
    }
    await insertRows(tx, 'ticket_events', rows);
  }

  /** A ticket's moves in order, its opening as the moves it stands for. */
  async timeline(ticketId: string): Promise<TicketEventRow[]> {
    const rows = await this.#db
      .selectFrom('ticket_events')
      .selectAll()
      .where('ticket_id', '=', ticketId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.flatMap((e) => {
      if (e.action !== OPENING) return [e];
      const detail = JSON.parse(e.detail ?? '{}') as Record<string, unknown>;
      return openingMoves(e.to_state).map((m, i) => ({
        ...e,
        id: `${e.id}-${i}`,
        action: m.action,
        from_state: m.from,
        to_state: m.to,
        reason: m.reason,
        detail: openingDetail(m, detail),
      }));
    });
  }

  /** New tickets' deadline timers, one each: a ticket id is new, so one already there is a bug and fails the batch. */
  async addTimers(tx: Kysely<Database>, rows: readonly TicketTimerRow[], into?: JsonInserts): Promise<void> {
    if (onPostgres(tx)) {
      if (into) into.add('ticket_timers', rows);
      else if (rows.length > 0) await insertJson(tx, 'ticket_timers', rows);
      return;
    }
    await insertRows(tx, 'ticket_timers', rows);
  }

  /** The ticket's pending stage moved to its deadlines as they now stand (`TicketService.merge` tightened them). */
  async retime(tx: Kysely<Database>, t: Pick<TicketRow, 'id' | 'yellow_at' | 'deadline_at' | 'escalate_at'>): Promise<void> {
    const at = (ms: number) => sql`cast(${ms} as bigint)`;
    await sql`update ticket_timers set due_at = case kind when 'yellow' then ${at(t.yellow_at)} when 'red' then ${at(t.deadline_at)} else ${at(t.escalate_at)} end
      where ticket_id = ${t.id} and fired_at is null`.execute(tx);
  }

  list(f: TicketFilter): Promise<TicketRow[]> {
    let q = this.#db.selectFrom('tickets').selectAll();
    if (f.state) q = q.where('state', '=', f.state);
    if (f.open) q = q.where('state', '!=', 'closed');
    // The route admits only [0-9a-z-]: no LIKE wildcard reaches here.
    if (f.idPrefix) q = q.where('id', 'like', `${f.idPrefix}%`);
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
      .select(['e.ticket_id', 'e.at', 'e.action', 'e.to_state'])
      .where('t.opened_at', '>=', from)
      .where('t.opened_at', '<', to)
      .execute();
    return {
      tickets,
      events: events.flatMap(({ ticket_id, at, action, to_state }) =>
        action === OPENING ? openingMoves(to_state).map((m) => ({ ticket_id, at, action: m.action })) : [{ ticket_id, at, action }],
      ),
    };
  }
}
