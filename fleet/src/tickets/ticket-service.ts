import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AlarmRecord } from '../domain/alarm-engine.ts';
import type { Category } from '../domain/alarm-rules.ts';
import {
  checkMove,
  type DeadlineRule,
  deadlineRule,
  type Light,
  MOVES,
  OPENING,
  type TicketAction,
  type TicketState,
} from '../domain/ticket-flow.ts';
import { addDuration, type Duration, type WorkCalendar } from '../domain/working-time.ts';
import { ticketSnapshot } from '../flows/snapshot.ts';
import type { Route } from '../grid/grid.ts';
import type { LoopChange } from '../services/loop-changes.ts';
import type { FlowsOutbox, OutboxEntry, OutboxEventType } from '../storage/flows-outbox.ts';
import type { LoopBatch } from '../storage/loop-batch.ts';
import type { Database, TicketEventRow, TicketRow } from '../storage/schema.ts';
import { type NextTimer, SqlTimers } from '../storage/sql-timers.ts';
import type { TicketStore } from '../storage/ticket-store.ts';

/** What a ticket carries to the people who act: where, what the unit read around then, media references. */
export interface Evidence {
  position: { lat: number; lon: number } | null;
  /** The unit's latest readings when the alarm was taken (power, location, link). */
  readings: Record<string, unknown>;
  alarm: { ts: number; receivedAt: number; severity: string; value: number | null; message: string | null; late: boolean };
  /** References the video pipeline fills in (snapshot and clip ids). */
  snapshots: string[];
  clips: string[];
}

export class TicketError extends Error {
  readonly code: 'NOT_FOUND' | 'CONFLICT' | 'REASON_REQUIRED' | 'INVALID';
  constructor(code: TicketError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface TicketServiceOptions {
  store: TicketStore;
  /** Every change is also written here, in its transaction, for the flows to deliver outside. */
  outbox: FlowsOutbox;
  deadlines: readonly DeadlineRule[];
  calendar: WorkCalendar;
  clock: { now(): number };
  /** Who fires timers here (the instance id), recorded on each timer. */
  instanceId: string;
  /** Hears the tickets each commit changed (the live views, services/loop-changes.ts). */
  changed?: (c: LoopChange) => void;
  log: Logger;
}

/** A ticket's deadline stages in the order they fire, each due at one of the ticket's times: one timer row moves through them. */
const STAGES = [
  { kind: 'yellow', due: (t: TicketRow) => t.yellow_at },
  { kind: 'red', due: (t: TicketRow) => t.deadline_at },
  { kind: 'escalate', due: (t: TicketRow) => t.escalate_at },
] as const;
type TimerKind = (typeof STAGES)[number]['kind'];
const TICKET_TIMERS = new SqlTimers('ticket_timers', 'ticket_id');

/** The stage after `kind`, due at its time on `t`; none after the escalation. */
function nextStage(t: TicketRow, kind: string): NextTimer | undefined {
  const next = STAGES[STAGES.findIndex((s) => s.kind === kind) + 1];
  return next && { kind: next.kind, dueAt: next.due(t) };
}

let sequence = 0;
/** Sorts by time then by order of creation in this process: events of one ms keep their order. */
function eventId(at: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${at.toString(36).padStart(9, '0')}-${String(sequence).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
}

function scale(d: Duration, f: number): Duration {
  if ('hours' in d) return { hours: d.hours * f };
  if ('workingHours' in d) return { workingHours: d.workingHours * f };
  return { workingDays: d.workingDays * f };
}

/**
 * Opens tickets from alarm episodes (or merges repeats into the open one), moves them along the
 * loop as the roles act, and fires their deadline timers exactly once across instances: timers are
 * rows claimed by a conditional update in the same transaction as their effect.
 */
export class TicketService {
  readonly #o: TicketServiceOptions;

  constructor(o: TicketServiceOptions) {
    this.#o = o;
  }

  /**
   * Inside the alarm's batch: the episode's ticket, new or merged into — the unit's open ticket of
   * the kind, else `joins` (the ticket of an episode it explains, `Decision.joins`) while open.
   */
  async openOrMerge(b: LoopBatch, a: AlarmRecord, route: Route, evidence: Evidence, joins: string | null = null): Promise<string> {
    const joined = joins === null ? undefined : await b.ticket(joins);
    const open = b.openTicket(a.unitId, a.kind) ?? (joined?.state === 'closed' ? undefined : joined);
    if (open) {
      await this.merge(b, open.id, a, evidence);
      return open.id;
    }
    const existing = await b.ticketByKey(a.episode);
    // The episode already had its ticket (closed since): one episode, one ticket, ever.
    if (existing) return existing.id;
    const now = this.#o.clock.now();
    // A cell with a department for the category: straight to it. Otherwise the dispatcher decides.
    const routed = route.matched && route.department !== null;
    const row: TicketRow = {
      id: randomUUID(),
      idempotency_key: a.episode,
      state: routed ? 'dispatched' : 'reported',
      unit_id: a.unitId,
      alarm_kind: a.kind,
      category: a.category,
      severity: a.severity,
      priority: a.priority,
      cell: route.cell,
      community: route.community,
      street: route.street,
      district: route.district,
      team: route.team,
      department: route.department,
      dispatcher: route.dispatcher,
      opened_at: now,
      ...this.#deadlines(now, a),
      light: 'green',
      escalated: 0,
      rework: 0,
      alarm_count: 1,
      evidence: JSON.stringify(evidence),
      updated_at: now,
    };
    const ev = (action: string, from: TicketState | null, to: TicketState | null, reason: string | null, detail?: unknown) =>
      this.eventRow(row.id, now, action, from, to, 'system', reason, detail);
    b.addTicket(
      row,
      ev(OPENING, null, row.state as TicketState, null, {
        episode: a.episode,
        kind: a.kind,
        ...(routed ? { department: route.department, team: route.team } : {}),
      }),
      { ticket_id: row.id, kind: STAGES[0].kind, due_at: STAGES[0].due(row), fired_at: null, fired_by: null },
    );
    b.publish(this.#entry(row, 'ticket.created', routed ? 'dispatch' : 'report', null, now));
    return row.id;
  }

  /**
   * A repeat of the alarm, or an episode joining the ticket: counted, with the latest evidence. One
   * whose severity gives a deadline (from now) earlier than the ticket's tightens it: the ticket
   * takes its severity, priority and deadlines, and its pending stage is re-timed (a critical
   * breach joining a major left-site ticket is due as a critical one). A deadline never loosens.
   */
  async merge(b: LoopBatch, ticketId: string, a: AlarmRecord, evidence: Evidence): Promise<void> {
    const t = await b.ticket(ticketId);
    if (!t) return;
    const now = this.#o.clock.now();
    // The ticket's own severity counted from now is never sooner: a plain repeat skips the working-time sums.
    const sooner =
      t.state === 'closed' || a.severity === t.severity
        ? undefined
        : this.#deadlines(now, { category: t.category as Category, severity: a.severity });
    const tightens = sooner !== undefined && sooner.deadline_at < t.deadline_at;
    const patch: Partial<TicketRow> = {
      alarm_count: t.alarm_count + 1,
      evidence: JSON.stringify(evidence),
      updated_at: now,
      ...(tightens ? { severity: a.severity, priority: a.priority, ...sooner } : {}),
    };
    const detail = { episode: a.episode, ...(tightens ? { severity: a.severity, deadlineAt: sooner.deadline_at } : {}) };
    const next = b.patchTicket(ticketId, patch, this.eventRow(ticketId, now, 'merge', null, null, 'system', null, detail));
    b.publish(this.#entry(next, 'ticket.changed', 'merge', null, now));
  }

  /** A ticket's deadlines from `start`, by its category and the alarm's severity, in working time where the rule says. */
  #deadlines(
    start: number,
    a: { category: Category; severity: AlarmRecord['severity'] },
  ): Pick<TicketRow, 'deadline_at' | 'yellow_at' | 'escalate_at'> {
    const rule = deadlineRule(this.#o.deadlines, a.category, a.severity);
    const cal = this.#o.calendar;
    const deadline = addDuration(cal, start, rule.close);
    return {
      deadline_at: deadline,
      yellow_at: addDuration(cal, start, scale(rule.close, rule.yellowAt)),
      escalate_at: addDuration(cal, deadline, rule.escalateAfter),
    };
  }

  /** A person's move; the role was checked by the route. 409 for a move the loop does not allow. */
  async act(
    id: string,
    action: Exclude<TicketAction, 'report'>,
    actor: string,
    body: { reason?: string | undefined; department?: string | undefined },
  ): Promise<TicketRow> {
    const db = this.#o.store.db;
    const moved = await db.transaction().execute(async (tx) => {
      const t = await this.#o.store.get(tx, id);
      if (!t) throw new TicketError('NOT_FOUND', `no ticket ${id}`);
      const check = checkMove(t.state as TicketState, action, body.reason);
      if (!check.ok) throw new TicketError(check.code, check.message);
      const department = body.department ?? t.department;
      if (action === 'dispatch' && !department)
        throw new TicketError('INVALID', 'dispatch needs a department: the grid has none for this ticket');
      const now = this.#o.clock.now();
      const patch: Partial<TicketRow> = { state: check.to, updated_at: now };
      if (action === 'dispatch') patch.department = department;
      if (action === 'reopen') patch.rework = t.rework + 1;
      if (action === 'escalate') patch.escalated = 1;
      if (!(await this.#o.store.move(tx, id, t.state, patch)))
        throw new TicketError('CONFLICT', `ticket ${id} changed meanwhile; read it again`);
      const detail =
        action === 'dispatch'
          ? { department }
          : action === 'close'
            ? { satisfied: true }
            : action === 'reopen'
              ? { satisfied: false }
              : null;
      await this.#event(tx, id, now, action, t.state as TicketState, check.to, actor, body.reason ?? null, detail);
      await this.#publish(tx, { ...t, ...patch }, 'ticket.changed', action, body.reason ?? null, now);
      return { ...t, ...patch };
    });
    this.#o.changed?.({ tickets: [id] });
    return moved;
  }

  /** Fires every due timer this instance can claim; returns how many it fired. */
  async runDue(limit = 500): Promise<number> {
    const tickets: string[] = [];
    const fired = await TICKET_TIMERS.fireDue(
      this.#o.store.db,
      this.#o.clock.now(),
      this.#o.instanceId,
      async (tx, timer) => {
        const t = await this.#o.store.get(tx, timer.owner);
        if (!t) return undefined;
        if (t.state !== 'closed') await this.#fire(tx, t, timer.kind as TimerKind, timer.dueAt);
        tickets.push(t.id);
        // A stage due while the ticket was closed passes unfired, as a reopened ticket's later stages still fire.
        return nextStage(t, timer.kind);
      },
      limit,
    );
    if (tickets.length) this.#o.changed?.({ tickets });
    if (fired > 0) this.#o.log.debug({ fired }, 'ticket timers fired');
    return fired;
  }

  async #fire(tx: Kysely<Database>, t: TicketRow, kind: TimerKind, dueAt: number): Promise<void> {
    const now = this.#o.clock.now();
    if (kind === 'escalate') {
      await this.#o.store.patch(tx, t.id, { escalated: 1, updated_at: now });
      await this.#event(tx, t.id, dueAt, 'escalate', null, null, 'system', 'overdue', { firedAt: now });
      await this.#publish(tx, { ...t, escalated: 1, updated_at: now }, 'ticket.changed', 'escalate', 'overdue', now);
      return;
    }
    const light: Light = kind;
    const action = light === 'red' ? 'overdue' : 'warn';
    // A late yellow never paints over a red already shown (and so tells the outside nothing).
    const paints = !(light === 'yellow' && t.light === 'red');
    if (paints) await this.#o.store.patch(tx, t.id, { light, updated_at: now });
    await this.#event(tx, t.id, dueAt, action, null, null, 'system', null, { light, firedAt: now });
    if (paints) await this.#publish(tx, { ...t, light, updated_at: now }, 'ticket.changed', action, null, now);
  }

  #entry(t: TicketRow, type: OutboxEventType, action: string, reason: string | null, at: number): OutboxEntry {
    return { ticket: ticketSnapshot(t), type, action, reason, at };
  }

  /** After the ticket row is written: on PostgreSQL its row lock orders the outbox positions. */
  #publish(tx: Kysely<Database>, t: TicketRow, type: OutboxEventType, action: string, reason: string | null, at: number): Promise<void> {
    return this.#o.outbox.append(tx, [this.#entry(t, type, action, reason, at)]);
  }

  #event(tx: Kysely<Database>, ...row: Parameters<TicketService['eventRow']>): Promise<void> {
    return this.#o.store.events(tx, [this.eventRow(...row)]);
  }

  /** One line of a ticket's timeline. */
  eventRow(
    ticketId: string,
    at: number,
    action: string,
    from: TicketState | null,
    to: TicketState | null,
    actor: string,
    reason: string | null,
    detail?: unknown,
  ): TicketEventRow {
    return {
      id: eventId(at),
      ticket_id: ticketId,
      at,
      action,
      from_state: from,
      to_state: to,
      actor,
      reason,
      detail: detail ? JSON.stringify(detail) : null,
    };
  }
}

/** The role each person's move needs, from the state machine's data. */
export function moveRole(action: Exclude<TicketAction, 'report'>) {
  return MOVES[action].role;
}
