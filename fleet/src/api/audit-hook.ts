import { randomUUID } from 'node:crypto';
import { FLOWS_ROUTES } from '@shouwang/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { episodeUnit } from '../domain/alarm-engine.ts';
import { CAMPAIGN_MOVES } from '../domain/rollout-status.ts';
import type { AuditStore } from '../storage/audit-store.ts';

const COMMAND_ROUTE = '/api/units/:id/commands/';
const TICKET_ROUTE = '/api/tickets/:id/';
const ALARM_ROUTE = '/api/alarms/:episode/';
const CAMPAIGNS_ROUTE = '/api/ota/campaigns';
const CAMPAIGN_ROUTE = `${CAMPAIGNS_ROUTE}/:id`;
const RELEASES_ROUTE = '/api/ota/releases';

/** The audited write routes, in the audit log's words (commands and ticket moves are named by their route). */
const NAMED: Record<string, string> = {
  'POST /api/claim': 'claim',
  'POST /api/registry/units': 'register',
  'PATCH /api/registry/units/:id': 'update',
  'POST /api/registry/units/:id/rotate': 'rotate',
  'POST /api/registry/units/:id/revoke': 'revoke',
  'POST /api/tokens': 'issue-token',
  'DELETE /api/tokens/:id': 'revoke-token',
  [`POST ${ALARM_ROUTE}acknowledge`]: 'acknowledge-alarm',
  [`POST ${ALARM_ROUTE}shelve`]: 'shelve-alarm',
  [`POST ${ALARM_ROUTE}comments`]: 'comment-alarm',
  // A lease is not: the flows poll it every few seconds, and each event leased is settled on record.
  [`POST ${FLOWS_ROUTES.settle}`]: 'flows-settle',
  [`POST ${FLOWS_ROUTES.status}`]: 'flows-status',
  [`POST ${FLOWS_ROUTES.retry}`]: 'flows-retry',
  [`POST ${RELEASES_ROUTE}`]: 'publish-release',
  [`POST ${CAMPAIGNS_ROUTE}`]: 'create-campaign',
  ...Object.fromEntries(Object.keys(CAMPAIGN_MOVES).map((m) => [`POST ${CAMPAIGN_ROUTE}/${m}`, `${m}-campaign`])),
};

/** What a write route does, in the audit log's words; null for routes that are not audited. */
function actionOf(method: string, url: string): string | null {
  if (url.startsWith(COMMAND_ROUTE)) return url.slice(COMMAND_ROUTE.length);
  if (method === 'POST' && url.startsWith(TICKET_ROUTE)) return `ticket-${url.slice(TICKET_ROUTE.length)}`;
  return NAMED[`${method} ${url}`] ?? null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The unit a write concerns: the route's `:id` on unit routes, the body's id on register, the
 * answer's on claim and on ticket moves, the episode's on alarm routes (refusals included).
 */
function unitOf(req: FastifyRequest, answer: Record<string, unknown> | null): string | null {
  const url = req.routeOptions.url ?? '';
  if (url.startsWith('/api/units/:id') || url.startsWith('/api/registry/units/:id')) return (req.params as { id: string }).id;
  if (url.startsWith(ALARM_ROUTE)) return text(episodeUnit((req.params as { episode: string }).episode));
  if (url === '/api/registry/units') return text((req.body as { id?: unknown } | undefined)?.id);
  if (url === '/api/claim' || url.startsWith(TICKET_ROUTE)) return text(answer?.unitId);
  return null;
}

/** The ticket a write concerns: the route's on ticket moves, the status's, the alarm's once it has one. */
function ticketOf(req: FastifyRequest, answer: Record<string, unknown> | null): string | null {
  const url = req.routeOptions.url ?? '';
  if (url.startsWith(TICKET_ROUTE)) return (req.params as { id: string }).id;
  if (url === FLOWS_ROUTES.status) return text((req.body as { ticketId?: unknown } | undefined)?.ticketId);
  if (url.startsWith(ALARM_ROUTE)) return text(answer?.ticketId);
  return null;
}

/** The campaign a write concerns: the route's on moves, the answer's on create. */
function campaignOf(req: FastifyRequest, answer: Record<string, unknown> | null): string | null {
  const url = req.routeOptions.url ?? '';
  if (url.startsWith(`${CAMPAIGN_ROUTE}/`)) return (req.params as { id: string }).id;
  if (url === CAMPAIGNS_ROUTE) return text(answer?.id);
  return null;
}

/**
 * The release a write concerns: the version its signed manifest names on publish (refusals
 * included, when the manifest reads), the body's on campaign create, the campaign's on moves.
 */
function releaseOf(req: FastifyRequest, answer: Record<string, unknown> | null): string | null {
  const url = req.routeOptions.url ?? '';
  if (url === RELEASES_ROUTE) {
    const body = (req.body as { manifest?: { body?: unknown } } | undefined)?.manifest?.body;
    const manifest = typeof body === 'string' ? parse(body) : null;
    return text(answer?.version) ?? text(manifest?.version);
  }
  if (url === CAMPAIGNS_ROUTE) return text((req.body as { version?: unknown } | undefined)?.version);
  if (url.startsWith(`${CAMPAIGN_ROUTE}/`)) return text(answer?.version);
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
 * Every write through the API by a known caller (the routes above: commands, registry, claim,
 * tokens, alarm answers, ticket moves, the flows' settlements and statuses, release publishes and
 * campaign creates and moves) leaves one audit
 * entry — who, what, which unit and ticket, when, and how it ended (refusals included: a commander trying a maintainer's action is on
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
        ticket_id: ticketOf(req, answer),
        campaign_id: campaignOf(req, answer),
        release_version: releaseOf(req, answer),
        at: now(),
        actor_id: principal.tokenId,
        actor_name: principal.name,
        role: principal.role,
        action,
        status: reply.statusCode,
        result: ok ? 'ok' : typeof error?.code === 'string' ? error.code : 'ERROR',
        // A write's own reason (a pause's, a ticket move's), or the refusal's words.
        message: ok ? text((req.body as { reason?: unknown } | undefined)?.reason) : (text(error?.message)?.slice(0, 300) ?? null),
      });
    } catch (err) {
      // The action itself went through: losing its audit line is logged, not turned into a failure.
      log.error({ err, action, unitId: unitOf(req, answer) }, 'audit entry not written');
    }
    return payload;
  });
}
