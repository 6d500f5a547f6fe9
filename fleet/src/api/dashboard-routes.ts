import type { FastifyInstance } from 'fastify';
import type { TokenService } from '../auth/tokens.ts';
import type { FleetConfig } from '../config.ts';
import { type AuditStore, auditEntry } from '../storage/audit-store.ts';
import type { DashboardAssets } from './dashboard-bundle.ts';
import { AuditAnswer, answers } from './loop-schemas.ts';
import { ID_PARAMS, limitQuery } from './params.ts';

/** The page formats every time in this zone: an unknown one would break it in every browser, so it stops the start. */
export function checkTimeZone(config: FleetConfig['dashboard']): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: config.timeZone });
  } catch {
    throw new Error(`dashboard.timeZone: unknown time zone '${config.timeZone}' (an IANA name such as Asia/Shanghai)`);
  }
}

/**
 * What the dashboard needs besides the unit API: its page and script, who the caller is (the
 * sign-in screen checks a token here), how to draw (time zone, tile source) and each unit's audit log.
 */
export function registerDashboardRoutes(
  app: FastifyInstance,
  deps: { dashboard: DashboardAssets; config: FleetConfig['dashboard']; tokens: TokenService; audit: AuditStore },
): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(deps.dashboard.html));
  app.get('/app.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(deps.dashboard.js),
  );

  // Open: the page needs it before anyone signs in, and it holds nothing secret.
  app.get('/api/dashboard/config', async () => deps.config);

  app.get(
    '/api/session',
    { config: { action: 'read', summary: "The caller's role and token name; role null when reading without a token (open-read mode)" } },
    async (req) => ({
      role: req.principal?.role ?? null,
      name: req.principal?.name ?? null,
      tokenId: req.principal?.tokenId ?? null,
      tokenRequired: deps.tokens.enforced,
    }),
  );

  app.get<{ Params: { id: string }; Querystring: { limit: number } }>(
    '/api/units/:id/audit',
    {
      config: { action: 'read', summary: 'Writes through the API that concerned this unit, newest first: who, what, when, result' },
      schema: {
        params: ID_PARAMS,
        querystring: limitQuery(500, 50),
        response: answers(AuditAnswer),
      },
    },
    async (req) => ({
      id: req.params.id,
      entries: (await deps.audit.forUnit(req.params.id, req.query.limit)).map(auditEntry),
    }),
  );
}
