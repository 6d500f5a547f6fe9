import {
  DeadLetters,
  FLOWS_ROUTES,
  LeasedEvents,
  LeaseRequest,
  SettleRequest,
  type StatusAction,
  StatusChange,
  StatusResult,
  type TicketState,
} from '@shouwang/protocol';
import type { FastifyInstance } from 'fastify';
import type { AlarmLoop } from '../alarms/loop.ts';
import type { FleetConfig } from '../config.ts';
import { MOVES, type TicketAction } from '../domain/ticket-flow.ts';
import { leaseWaiting } from '../flows/lease-wait.ts';
import { TicketError } from '../tickets/ticket-service.ts';
import { answers, Retried, Settled } from './loop-schemas.ts';
import { limitQuery } from './params.ts';

const DEFAULT_LIMIT = 100;
const DEFAULT_LEASE_MS = 60_000;

/** The loop's move for an outside status; an unsatisfied close sends the ticket back to handling. */
function moveFor(c: StatusChange): { action: Exclude<TicketAction, 'report'>; reason: string | undefined } {
  const moves: Record<StatusAction, Exclude<TicketAction, 'report'>> = {
    sign: 'sign',
    handle: 'handle',
    feedback: 'feedback',
    close: 'close',
  };
  if (c.action === 'close' && c.satisfaction === 'unsatisfied') return { action: 'reopen', reason: c.feedback ?? 'unsatisfied' };
  return { action: moves[c.action], reason: c.feedback };
}

/**
 * The flows' side of the fleet (protocol/src/messages/flows.ts): ticket events leased from the
 * outbox and settled, outside statuses applied as moves of the loop, and the dead-letter list an
 * operator reads and retries.
 */
export function registerFlowsRoutes(
  app: FastifyInstance,
  loop: AlarmLoop,
  now: () => number,
  waiting: FleetConfig['flows']['lease'],
): void {
  // Waiting leases answer (empty) as the fleet closes, instead of holding its shutdown.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  app.post<{ Body: LeaseRequest | undefined }>(
    FLOWS_ROUTES.lease,
    {
      config: { action: 'integrate', summary: 'Lease the next ticket events to deliver (oldest unsettled per ticket)' },
      schema: { body: LeaseRequest, response: answers(LeasedEvents) },
    },
    async (req, reply) => {
      const leaseMs = req.body?.leaseMs ?? DEFAULT_LEASE_MS;
      // A caller gone mid-wait must not be leased events nobody will deliver until the lease runs out.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const { events, at } = await leaseWaiting(loop.outbox, {
        now,
        leaseMs,
        limit: req.body?.limit ?? DEFAULT_LIMIT,
        waitMs: req.body?.waitMs ?? 0,
        recheckMs: waiting.recheckMs,
        safetyMs: waiting.safetyMs,
        signal: AbortSignal.any([gone.signal, closing.signal]),
      });
      return { events, leaseUntil: at + leaseMs };
    },
  );

  app.post<{ Body: SettleRequest }>(
    FLOWS_ROUTES.settle,
    {
      config: { action: 'integrate', summary: 'Settle leased events: delivered, or dead-letter with the reason' },
      schema: { body: SettleRequest, response: answers(Settled) },
    },
    async (req) => ({ settled: await loop.outbox.settle(req.body.settlements, now()) }),
  );

  app.post<{ Body: StatusChange }>(
    FLOWS_ROUTES.status,
    {
      config: {
        action: 'integrate',
        summary: "An outside system's status applied to the ticket; a repeat of the last one changes nothing",
      },
      schema: { body: StatusChange, response: answers(StatusResult) },
    },
    async (req): Promise<StatusResult> => {
      const c = req.body;
      const { action, reason } = moveFor(c);
      const actor = `${c.source}:${c.actor ?? 'outside'}`;
      try {
        const t = await loop.tickets.act(c.ticketId, action, actor, { reason });
        return { ticketId: t.id, applied: true, state: t.state as TicketState };
      } catch (err) {
        // The outside answering twice: the ticket is already where this status puts it.
        if (!(err instanceof TicketError) || err.code !== 'CONFLICT') throw err;
        const t = await loop.ticketStore.get(loop.ticketStore.db, c.ticketId);
        if (t && t.state === MOVES[action].to) return { ticketId: t.id, applied: false, state: t.state as TicketState };
        throw err;
      }
    },
  );

  app.get<{ Querystring: { limit: number } }>(
    FLOWS_ROUTES.deadLetters,
    {
      config: { action: 'read', summary: 'Ticket events an outside system refused for good, with the reason' },
      schema: { querystring: limitQuery(5000, 500), response: answers(DeadLetters) },
    },
    async (req) => ({ deadLetters: await loop.outbox.deadLetters(req.query.limit) }),
  );

  app.post<{ Params: { seq: number } }>(
    FLOWS_ROUTES.retry,
    {
      config: { action: 'dispatch', summary: 'Send a dead letter again: back to pending, for the next lease' },
      schema: {
        params: { type: 'object', properties: { seq: { type: 'integer', minimum: 1 } }, required: ['seq'] },
        response: answers(Retried),
      },
    },
    async (req, reply) => {
      if (await loop.outbox.retry(req.params.seq)) return { seq: req.params.seq, state: 'pending' };
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no dead letter ${req.params.seq}` } });
    },
  );
}
