import type { FastifyReply } from 'fastify';
import { AlarmError } from '../alarms/alarm-service.ts';
import { TicketError } from '../tickets/ticket-service.ts';

const STATUS = { NOT_FOUND: 404, CONFLICT: 409, REASON_REQUIRED: 400, INVALID: 400 } as const;

/** Alarm and ticket refusals in the API's one error shape; anything else goes to the error handler. */
export async function answering<T>(reply: FastifyReply, fn: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AlarmError || err instanceof TicketError)
      return reply.code(STATUS[err.code]).send({ error: { code: err.code, message: err.message } });
    throw err;
  }
}

/** Who acted, as the event log records it: the role and the token id. */
export function actorOf(req: { principal: { role: string; tokenId: string } | null }): string {
  return req.principal ? `${req.principal.role}:${req.principal.tokenId}` : 'loopback';
}
