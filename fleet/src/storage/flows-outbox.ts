import type { DeadLetter, Settlement, TicketEvent, TicketSnapshot } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import { insertRows, JsonInserts, onPostgres } from './bulk.ts';
import { type NotifyListener, notification, notify } from './pg-notify.ts';
import type { Database, OutboxRow } from './schema.ts';

export type OutboxEventType = TicketEvent['type'];

/** Notified (PostgreSQL) in each transaction that makes events leasable, heard by every instance. */
export const FLOWS_CHANNEL = 'shouwang_flows_leasable';

/** A ticket change for the outbox: the ticket as it stands after it. */
export interface OutboxEntry {
  ticket: TicketSnapshot;
  type: OutboxEventType;
  action: string;
  reason: string | null;
  at: number;
}

function toEvent(r: OutboxRow): TicketEvent {
  return {
    seq: r.seq,
    type: r.type as OutboxEventType,
    at: r.at,
    action: r.action,
    reason: r.reason,
    attempts: r.attempts,
    ticket: JSON.parse(r.ticket) as TicketEvent['ticket'],
  };
}

/**
 * The transactional outbox of ticket events for the flows (SQLite and PostgreSQL alike). A row is
 * written in the transaction of the ticket change it reports, after the ticket row is written —
 * so on PostgreSQL the row lock on the ticket orders two changes' positions as they commit.
 * Consumers lease the oldest unsettled event of each ticket and settle it; a lease that runs out
 * hands the event out again (at least once). Delivered events older than the flows' keepDays are
 * pruned (`pruneDelivered`); undelivered, leased and dead-lettered ones never are.
 */
export class FlowsOutbox {
  readonly #db: Kysely<Database>;
  readonly #postgres: boolean;
  readonly #waiting = new Set<() => void>();
  #heard: NotifyListener | null = null;

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#postgres = onPostgres(db);
  }

  /**
   * Resolves when an event may have become leasable (`cancel` lets go of it): an append, a
   * settlement (the ticket's next event), a retried dead letter — on this instance at once (an
   * append still inside its transaction: on SQLite's one connection a lease asked on waking runs
   * after the commit; on PostgreSQL it may run before, see fleet/src/flows/lease-wait.ts), and on
   * PostgreSQL on any instance when its transaction commits, through `hear`.
   */
  leasable(): { woken: Promise<void>; cancel(): void } {
    let wake = () => {};
    const woken = new Promise<void>((r) => {
      wake = r;
    });
    this.#waiting.add(wake);
    return { woken, cancel: () => this.#waiting.delete(wake) };
  }

  /**
   * Other fleet instances' commits wake this one's waiting leases, through the fleet's listener.
   * A listener that may have missed notifications wakes them too, so they look again.
   */
  hear(listener: NotifyListener): () => void {
    this.#heard = listener;
    const off = listener.on(FLOWS_CHANNEL, () => this.#wake());
    return () => {
      off();
      this.#heard = null;
    };
  }

  /**
   * Whether every commit that makes an event leasable wakes this instance: on SQLite one process
   * holds the database, so its own wake is all; on PostgreSQL only while the listener hears.
   */
  othersHeard(): boolean {
    return this.#postgres ? (this.#heard?.listening ?? false) : true;
  }

  /**
   * Events in the order given (the order their changes happened in the transaction). On
   * PostgreSQL, given `into`, the rows and their notification are gathered there to go with the
   * batch's other writes (see `JsonInserts`); else they go in one round trip of their own.
   */
  async append(tx: Kysely<Database>, events: readonly OutboxEntry[], into?: JsonInserts): Promise<void> {
    const rows = events.map((e) => ({
      ticket_id: e.ticket.id,
      type: e.type,
      action: e.action,
      at: e.at,
      reason: e.reason,
      ticket: JSON.stringify(e.ticket),
      state: 'pending',
      attempts: 0,
      leased_until: 0,
      settled_at: null,
      outcome_reason: null,
      target: null,
    }));
    if (rows.length === 0) return;
    // Both keep the order given, which `seq` follows.
    if (this.#postgres) {
      const w = into ?? new JsonInserts();
      w.add('flows_outbox', rows);
      w.finish(notification(FLOWS_CHANNEL));
      if (!into) await w.execute(tx);
    } else await insertRows(tx, 'flows_outbox', rows);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
  }

  /**
   * Leases up to `limit` events: pending, not leased now, and with no earlier unsettled event of
   * their ticket (in flight or dead-lettered) — a ticket's changes never overtake each other.
   * The conditional update makes two concurrent leases take disjoint events.
   */
  async lease(now: number, leaseMs: number, limit: number): Promise<TicketEvent[]> {
    const candidates = await this.#db
      .selectFrom('flows_outbox as o')
      .select('o.seq')
      .where('o.state', '=', 'pending')
      .where('o.leased_until', '<=', now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('flows_outbox as p')
              .select('p.seq')
              .whereRef('p.ticket_id', '=', 'o.ticket_id')
              .whereRef('p.seq', '<', 'o.seq')
              .where('p.state', '!=', 'delivered'),
          ),
        ),
      )
      .orderBy('o.seq')
      .limit(limit)
      .execute();
    if (candidates.length === 0) return [];
    const rows = await this.#db
      .updateTable('flows_outbox')
      .set((eb) => ({ leased_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
      .where(
        'seq',
        'in',
        candidates.map((c) => c.seq),
      )
      .where('state', '=', 'pending')
      .where('leased_until', '<=', now)
      .returningAll()
      .execute();
    // attempts counts leases before this one.
    return rows.sort((a, b) => a.seq - b.seq).map((r) => toEvent({ ...r, attempts: r.attempts - 1 }));
  }

  /**
   * Settles pending events; one already settled is left as it is, and of one seq given twice the
   * first counts. Returns how many changed. Settlements with the same outcome go in one statement
   * (a storm's batch of deliveries is one UPDATE, not hundreds).
   */
  async settle(settlements: readonly Settlement[], now: number): Promise<number> {
    const groups = new Map<string, { s: Settlement; seqs: number[] }>();
    const seen = new Set<number>();
    for (const s of settlements) {
      if (seen.has(s.seq)) continue;
      seen.add(s.seq);
      const key = JSON.stringify([s.outcome, s.reason ?? null, s.target ?? null]);
      const g = groups.get(key) ?? { s, seqs: [] };
      g.seqs.push(s.seq);
      groups.set(key, g);
    }
    let changed = 0;
    await this.#db.transaction().execute(async (tx) => {
      for (const { s, seqs } of groups.values()) {
        const r = await tx
          .updateTable('flows_outbox')
          .set({ state: s.outcome, settled_at: now, outcome_reason: s.reason ?? null, target: s.target ?? null, leased_until: 0 })
          .where('seq', 'in', seqs)
          .where('state', '=', 'pending')
          .executeTakeFirst();
        changed += Number(r.numUpdatedRows);
      }
      if (changed > 0 && this.#postgres) await notify(tx, FLOWS_CHANNEL);
    });
    // A settled event lets its ticket's next one be leased.
    if (changed > 0) this.#wake();
    return changed;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const rows = await this.#db
      .selectFrom('flows_outbox')
      .selectAll()
      .where('state', '=', 'dead-letter')
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      seq: r.seq,
      ticketId: r.ticket_id,
      type: r.type as OutboxEventType,
      action: r.action,
      at: r.at,
      attempts: r.attempts,
      settledAt: r.settled_at,
      reason: r.outcome_reason,
      target: r.target,
    }));
  }

  /** A dead letter back to pending, for the next lease; false when there is no such dead letter. */
  async retry(seq: number): Promise<boolean> {
    const retried = await this.#db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('flows_outbox')
        .set({ state: 'pending', leased_until: 0, settled_at: null })
        .where('seq', '=', seq)
        .where('state', '=', 'dead-letter')
        .executeTakeFirst();
      if (r.numUpdatedRows === 0n) return false;
      if (this.#postgres) await notify(tx, FLOWS_CHANNEL);
      return true;
    });
    if (!retried) return false;
    this.#wake();
    return true;
  }

  /**
   * Deletes events delivered before `before`, `batch` at a time, each batch its own statement (a
   * large backlog never holds one long transaction or, on SQLite, the event loop); returns how
   * many. Ordering is safe: a lease waits only behind a ticket's earlier events that are not
   * delivered, and a seq is never handed out again (SQLite AUTOINCREMENT, PostgreSQL bigserial),
   * so a consumer that remembers seqs never mistakes a new event for one it had.
   */
  async pruneDelivered(before: number, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await this.#db
        .deleteFrom('flows_outbox')
        .where(
          'seq',
          'in',
          this.#db
            .selectFrom('flows_outbox')
            .select('seq')
            .where('state', '=', 'delivered')
            .where('settled_at', '<', before)
            .orderBy('settled_at')
            .limit(batch),
        )
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      total += n;
      if (n < batch) return total;
      await new Promise(setImmediate);
    }
  }

  /** Events for one ticket in outbox order, any state (tests and the operator's view). */
  async forTicket(ticketId: string): Promise<(TicketEvent & { state: string })[]> {
    const rows = await this.#db.selectFrom('flows_outbox').selectAll().where('ticket_id', '=', ticketId).orderBy('seq').execute();
    return rows.map((r) => ({ ...toEvent(r), state: r.state }));
  }
}
