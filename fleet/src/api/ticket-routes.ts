import type { FastifyInstance } from 'fastify';
import type { AlarmLoop } from '../alarms/loop.ts';
import { computeKpis, KPI_LEVELS, type KpiLevel } from '../domain/kpi.ts';
import { TICKET_ACTIONS, TICKET_STATES, type TicketAction } from '../domain/ticket-flow.ts';
import { alarmOccurrences } from '../storage/alarm-occurrences.ts';
import { type AuditStore, auditEntry } from '../storage/audit-store.ts';
import type { TicketRow } from '../storage/schema.ts';
import type { TicketFilter } from '../storage/ticket-store.ts';
import { moveRole } from '../tickets/ticket-service.ts';
import { actorOf } from './actor.ts';
import { areaNames } from './area-names.ts';
import { AuditAnswer, answers, KpiAnswer, TicketList, TicketView, TicketWithTimeline } from './loop-schemas.ts';
import { limitQuery } from './params.ts';

const ID = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] };

export function ticketView(t: TicketRow) {
  return {
    id: t.id,
    idempotencyKey: t.idempotency_key,
    state: t.state,
    unitId: t.unit_id,
    alarmKind: t.alarm_kind,
    category: t.category,
    severity: t.severity,
    priority: t.priority,
    grid: { cell: t.cell, community: t.community, street: t.street, district: t.district, team: t.team },
    department: t.department,
    dispatcher: t.dispatcher,
    openedAt: t.opened_at,
    deadlineAt: t.deadline_at,
    yellowAt: t.yellow_at,
    escalateAt: t.escalate_at,
    light: t.light,
    escalated: t.escalated === 1,
    rework: t.rework,
    alarmCount: t.alarm_count,
    evidence: JSON.parse(t.evidence) as unknown,
    updatedAt: t.updated_at,
  };
}

export const gridIds = (t: TicketRow) => [t.cell, t.community, t.street, t.district];

/**
 * The work-order API: the queue (by deadline, filtered by grid level, department, state, light),
 * one ticket with its timeline, one route per move of the loop — each with the role the state
 * machine names — and the KPIs.
 */
export function registerTicketRoutes(app: FastifyInstance, loop: AlarmLoop, audit: AuditStore, now: () => number): void {
  app.get<{ Querystring: TicketFilter }>(
    '/api/tickets',
    {
      config: { action: 'read', summary: 'Tickets, soonest deadline first' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: [...TICKET_STATES] },
            open: { type: 'boolean' },
            district: { type: 'string' },
            street: { type: 'string' },
            community: { type: 'string' },
            cell: { type: 'string' },
            department: { type: 'string' },
            light: { type: 'string', enum: ['green', 'yellow', 'red'] },
            idPrefix: { type: 'string', pattern: '^[0-9a-z-]{1,64}$', description: 'Tickets whose id starts with this' },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
          },
          additionalProperties: false,
        },
        response: answers(TicketList),
      },
    },
    // The fleet's clock: the page paints traffic lights against it, not against the browser's.
    async (req) => {
      const rows = await loop.ticketStore.list(req.query);
      return { now: now(), tickets: rows.map(ticketView), names: areaNames(loop.grid, rows.flatMap(gridIds)) };
    },
  );

  app.get<{ Querystring: { from: number; to?: number; level: KpiLevel } }>(
    '/api/kpis',
    {
      config: {
        action: 'read',
        summary: 'Sign-for, on-time close, rework, satisfaction and more, for tickets opened in [from, to), by level',
      },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'integer', minimum: 0, default: 0 },
            to: { type: 'integer', minimum: 0 },
            level: { type: 'string', enum: [...KPI_LEVELS], default: 'district' },
          },
          additionalProperties: false,
        },
        response: answers(KpiAnswer),
      },
    },
    async (req) => {
      // The fleet's clock, as the tickets' own times are (it runs faster beside simulated units).
      const to = req.query.to ?? now();
      const { tickets, events } = await loop.ticketStore.forKpis(req.query.from, to);
      const kpis = computeKpis(
        tickets.map((t) => ({
          id: t.id,
          cell: t.cell,
          community: t.community,
          street: t.street,
          district: t.district,
          department: t.department ?? '(none)',
          openedAt: t.opened_at,
          deadlineAt: t.deadline_at,
          alarmCount: t.alarm_count,
        })),
        events.map((e) => ({ ticketId: e.ticket_id, at: e.at, action: e.action })),
        { from: req.query.from, to },
        req.query.level,
      );
      return {
        from: req.query.from,
        to,
        level: req.query.level,
        kpis,
        names: areaNames(
          loop.grid,
          kpis.map((k) => k.key),
        ),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/tickets/:id',
    {
      config: {
        action: 'read',
        summary: "One ticket with its timeline (every move: actor, time, reason) and the units' alarms merged into it",
      },
      schema: { params: ID, response: answers(TicketWithTimeline) },
    },
    async (req, reply) => {
      const t = await loop.ticketStore.get(loop.ticketStore.db, req.params.id);
      if (!t) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no ticket ${req.params.id}` } });
      const timeline = (await loop.ticketStore.timeline(t.id)).map((e) => ({
        at: e.at,
        action: e.action,
        from: e.from_state,
        to: e.to_state,
        actor: e.actor,
        reason: e.reason,
        detail: e.detail ? (JSON.parse(e.detail) as unknown) : null,
      }));
      const alarms = await alarmOccurrences(loop.ticketStore.db, { ticketId: t.id });
      return { now: now(), ticket: ticketView(t), alarms, timeline, names: areaNames(loop.grid, gridIds(t)) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/tickets/:id/audit',
    {
      config: { action: 'read', summary: "Writes through the API on this ticket (moves, the flows' statuses), newest first" },
      schema: { params: ID, querystring: limitQuery(500, 50), response: answers(AuditAnswer) },
    },
    async (req) => ({ id: req.params.id, entries: (await audit.forTicket(req.params.id, req.query.limit)).map(auditEntry) }),
  );

  for (const action of TICKET_ACTIONS) {
    if (action === 'report') continue;
    registerMove(app, loop, action);
  }
}

function registerMove(app: FastifyInstance, loop: AlarmLoop, action: Exclude<TicketAction, 'report'>): void {
  const role = moveRole(action);
  if (role === 'system') return;
  app.post<{ Params: { id: string }; Body: { reason?: string; department?: string } | undefined }>(
    `/api/tickets/:id/${action}`,
    {
      config: { action: role, summary: `Ticket move \`${action}\`; 409 when the ticket's state does not allow it` },
      schema: {
        params: ID,
        body: {
          type: 'object',
          properties: {
            reason: { type: 'string', maxLength: 2000 },
            ...(action === 'dispatch' ? { department: { type: 'string', minLength: 1, maxLength: 200 } } : {}),
          },
          additionalProperties: false,
        },
        response: answers(TicketView),
      },
    },
    async (req) =>
      ticketView(
        await loop.tickets.act(req.params.id, action, actorOf(req), { reason: req.body?.reason, department: req.body?.department }),
      ),
  );
}
