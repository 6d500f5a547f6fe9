import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, TokenService } from '../auth/tokens.ts';
import { type Action, can } from '../domain/roles.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route does; the auth hook checks the caller's role may do it. */
    action?: Action;
    /** One line for the OpenAPI document. */
    summary?: string;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const SSE_ROUTES: ReadonlySet<string> = new Set(['/api/events', '/api/dashboard/events']);
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  // EventSource cannot set headers: the SSE streams (and only they) may carry the token in the query.
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  return SSE_ROUTES.has(req.routeOptions.url ?? '') && typeof q === 'string' ? q : null;
}

/**
 * Bearer-token auth with roles on every route that declares an `action`.
 *
 * Without a configured admin token (auth.bootstrapAdminToken) the fleet runs in open-read mode:
 * reads are served to loopback callers without a token, so `./dev start` works out of the box,
 * while every write still needs a token and nothing is served to other hosts without one.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req, reply) => {
    const action = req.routeOptions.config.action;
    if (!action) return;
    const token = bearer(req);
    if (token) {
      req.principal = await tokens.authenticate(token);
      if (!req.principal) return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'unknown or revoked token' } });
    } else if (action === 'read' && !tokens.enforced && LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      return;
    } else {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'UNAUTHENTICATED', message: 'a bearer token is required' } });
    }
    if (!can(req.principal.role, action)) {
      return reply.code(403).send({ error: { code: 'FORBIDDEN', message: `role ${req.principal.role} may not ${action}` } });
    }
  });
}
