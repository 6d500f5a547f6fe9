import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { UnitView } from '../domain/unit-state.ts';
import type { FleetState } from '../services/fleet-state.ts';
import type { MqttIngest } from '../services/mqtt-ingest.ts';
import type { DashboardAssets } from './dashboard-bundle.ts';

export interface ApiDeps {
  state: FleetState;
  ingest: MqttIngest;
  dashboard: DashboardAssets;
  log: Logger;
}

/** JSON API, live updates over Server-Sent Events, and the dashboard page. */
export function createApi(deps: ApiDeps) {
  const app = Fastify({ loggerInstance: deps.log.child({ module: 'http' }), disableRequestLogging: true, forceCloseConnections: true });

  app.get('/api/units', async () => ({ units: deps.state.list() }));

  app.get<{ Params: { id: string } }>('/api/units/:id', async (req, reply) => {
    const unit = deps.state.get(req.params.id);
    if (!unit) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no unit ${req.params.id}` } });
    return unit;
  });

  app.get('/api/health', async () => ({
    status: 'ok',
    mqtt: deps.ingest.client.connected ? 'connected' : 'disconnected',
    units: deps.state.list().length,
    messages: deps.ingest.received,
    rejected: Object.fromEntries(deps.ingest.rejected),
  }));

  // One `unit` event per change, carrying the whole unit view; a snapshot first so a page
  // that (re)connects needs no second request.
  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (u: UnitView) => res.write(`event: unit\ndata: ${JSON.stringify(u)}\n\n`);
    for (const u of deps.state.list()) send(u);
    deps.state.on('unit', send);
    const ping = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      clearInterval(ping);
      deps.state.off('unit', send);
    });
  });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(deps.dashboard.html));
  app.get('/app.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(deps.dashboard.js),
  );
  return app;
}
