import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditStore } from '../storage/audit-store.ts';

const COMMAND_ROUTE = '/api/units/:id/commands/';

/** The audited write routes, in the audit log's words (commands are named by their route). */
const NAMED: Record<string, string> = {
  'POST /api/claim': 'claim',
  'POST /api/registry/units': 'register',
  'PATCH /api/registry/units/:id': 'update',
  'POST /api/registry/units/:id/rotate': 'rotate',
  'POST /api/registry/units/:id/revoke': 'revoke',
  'POST /api/tokens': 'issue-token',
  'DELETE /api/tokens/:id': 'revoke-token',
};

/** What a write route does, in the audit log's words; null for routes that are not audited. */
function actionOf(method: string, url: string): string | null {
  if (url.startsWith(COMMAND_ROUTE)) return url.slice(COMMAND_ROUTE.length);
  return NAMED[`${method} ${url}`] ?? null;
}

/** The unit a write concerns: the route's `:id` on unit routes, the body's id on register, the answer's on claim. */
function unitOf(req: FastifyRequest, answer: Record<string, unknown> | null): string | null {
  const url = req.routeOptions.url ?? '';
  if (url.startsWith('/api/units/:id') || url.startsWith('/api/registry/units/:id')) return (req.params as { id: string }).id;
  if (url === '/api/registry/units') return String((req.body as { id?: unknown } | undefined)?.id ?? '') || null;
  if (url === '/api/claim' && typeof answer?.unitId === 'string') return answer.unitId;
  return null;
}

function parse(payload: unknown): Record<string, unknown> | null {
  if (typeof payload !== 'string') return null;
  try {
    const v = JSON.parse(payload) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Every write on units and tokens through the API by a known caller (the routes above: commands,
 * registry, claim, tokens) leaves one audit entry — who, what, which unit,
 * when, and how it ended (refusals included: a commander trying a maintainer's action is on
 * record). Written before the answer leaves, so a page that reloads the log after an action sees
 * it. Requests with no valid token are not recorded: there is no one to name.
 */
export function registerAudit(app: FastifyInstance, audit: AuditStore, now: () => number, log: Logger): void {
  app.addHook('onSend', async (req, reply, payload) => {
    const principal = req.principal;
    const action = actionOf(req.method, req.routeOptions.url ?? '');
    if (!principal || !action) return payload;
    const answer = parse(payload);
    const error = answer?.error as { code?: unknown; message?: unknown } | undefined;
    const ok = reply.statusCode < 400;
    try {
      await audit.append({
        id: randomUUID(),
        unit_id: unitOf(req, answer),
        at: now(),
        actor_id: principal.tokenId,
        actor_name: principal.name,
        role: principal.role,
        action,
        status: reply.statusCode,
        result: ok ? 'ok' : typeof error?.code === 'string' ? error.code : 'ERROR',
        message: ok || typeof error?.message !== 'string' ? null : error.message.slice(0, 300),
      });
    } catch (err) {
      // The action itself went through: losing its audit line is logged, not turned into a failure.
      log.error({ err, action, unitId: unitOf(req, answer) }, 'audit entry not written');
    }
    return payload;
  });
}
