import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { AlarmLoop } from '../alarms/loop.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { FleetConfig } from '../config.ts';
import { unitsAtRisk } from '../domain/risk.ts';
import type { UnitView } from '../domain/unit-state.ts';
import { registerLiveRoutes } from '../media/live-routes.ts';
import type { Media } from '../media/media.ts';
import { registerMediaRoutes } from '../media/media-routes.ts';
import { registerTalkDownRoutes } from '../media/talk-down-routes.ts';
import type { Ota } from '../ota/ota.ts';
import type { Registry } from '../registry/registry.ts';
import type { DashboardOverlay } from '../services/dashboard-overlay.ts';
import type { FleetState } from '../services/fleet-state.ts';
import type { LoopChangeSource } from '../services/loop-changes.ts';
import type { MqttIngest } from '../services/mqtt-ingest.ts';
import type { UnitCommands } from '../services/unit-commands.ts';
import type { AuditStore } from '../storage/audit-store.ts';
import type { LocationHistorySource, PowerHistorySource } from '../storage/influx-history.ts';
import type { FleetStore } from '../storage/store.ts';
import { registerAlarmRoutes } from './alarm-routes.ts';
import { registerAudit } from './audit-hook.ts';
import { registerAuth } from './auth-hook.ts';
import { registerCommandRoutes } from './command-routes.ts';
import type { DashboardAssets } from './dashboard-bundle.ts';
import { registerDashboardRoutes } from './dashboard-routes.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { registerFlowsRoutes } from './flows-routes.ts';
import { AJV_OPTIONS, registerOpenApi } from './openapi.ts';
import { registerOtaRoutes } from './ota-routes.ts';
import { registerRegistryRoutes } from './registry-routes.ts';
import { openSse } from './sse.ts';
import { registerTicketRoutes } from './ticket-routes.ts';
import type { TileArchive } from './tile-archive.ts';

export interface ApiDeps {
  state: FleetState;
  store: FleetStore;
  /** Where power and location history are read: the gateway's InfluxDB when configured, else the fleet's store. */
  history: PowerHistorySource & LocationHistorySource;
  registry: Registry;
  tokens: TokenService;
  ingest: MqttIngest;
  commands: UnitCommands;
  loop: AlarmLoop;
  /** What the alarm loop commits, pushed to the console, the ticket queue and the ticket page. */
  loopChanges: LoopChangeSource;
  ota: Ota;
  media: Media;
  dashboard: DashboardAssets;
  dashboardConfig: FleetConfig['dashboard'];
  /** How waiting flows leases look for events (src/flows/lease-wait.ts). */
  flowsLease: FleetConfig['flows']['lease'];
  /** Standing alarms per unit and open tickets per cell, for the dashboard's stream. */
  overlay: DashboardOverlay;
  /** The operator's offline tile file, checked at start-up (null: none configured). */
  tileArchive: TileArchive | null;
  /** Fleet seconds per real second: the page's relative times run at this rate. */
  timeScale: number;
  audit: AuditStore;
  now: () => number;
  log: Logger;
}

/** A database that does not answer a ping within this is unreachable for health. */
const HEALTH_STORAGE_MS = 2000;

function reachable(ping: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([
    ping.then(
      () => true,
      () => false,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

/** JSON API, live updates over Server-Sent Events, and the dashboard page. */
export async function createApi(deps: ApiDeps) {
  const app = Fastify({
    loggerInstance: deps.log.child({ module: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    ajv: AJV_OPTIONS,
  });

  // One error shape for the whole API, unknown routes included (errors.ts).
  const httpLog = deps.log.child({ module: 'http' });
  app.setErrorHandler(errorHandler(httpLog));
  app.setNotFoundHandler(notFoundHandler(httpLog));

  await registerOpenApi(app);
  registerAuth(app, deps.tokens);
  registerAudit(app, deps.audit, deps.now, deps.log.child({ module: 'audit' }));
  const read = { config: { action: 'read' as const } };

  app.get('/api/units', read, async () => ({ units: deps.state.list() }));

  app.get<{ Params: { id: string } }>('/api/units/:id', read, async (req, reply) => {
    const unit = deps.state.get(req.params.id);
    if (!unit) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no unit ${req.params.id}` } });
    return unit;
  });

  app.get<{ Params: { id: string }; Querystring: { from?: number; to?: number; limit: number } }>(
    '/api/units/:id/history/power',
    {
      config: { action: 'read', summary: 'Battery and charge over time, at event time, oldest first' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'integer', minimum: 0, description: 'ms since epoch; default 24 h before `to`' },
            to: { type: 'integer', minimum: 0, description: 'ms since epoch; default now' },
            limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 2000 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      // The fleet's now: under --time-scale readings are stamped ahead of the wall clock.
      const to = req.query.to ?? deps.now();
      const from = req.query.from ?? to - 24 * 3_600_000;
      const rows = await deps.history.powerHistory(req.params.id, from, to, req.query.limit);
      return {
        id: req.params.id,
        from,
        to,
        points: rows.map((r) => ({
          ts: r.ts,
          soc: r.soc,
          batteryV: r.battery_v,
          solarW: r.solar_w,
          windW: r.wind_w,
          loadW: r.load_w,
          state: r.state,
        })),
      };
    },
  );

  app.get<{ Querystring: { hours: number } }>(
    '/api/at-risk',
    {
      config: { action: 'read', summary: 'Units already dark, then units forecast to run out of power within `hours`' },
      schema: {
        querystring: {
          type: 'object',
          properties: { hours: { type: 'number', minimum: 1, maximum: 24 * 30, default: 48 } },
          additionalProperties: false,
        },
      },
    },
    async (req) => ({ horizonH: req.query.hours, units: unitsAtRisk(deps.state.list(), req.query.hours) }),
  );

  registerRegistryRoutes(app, deps.registry, deps.tokens);
  registerCommandRoutes(app, deps.commands, async (id) => deps.state.has(id) || (await deps.registry.has(id)));
  registerAlarmRoutes(app, deps.loop, deps.now);
  registerTicketRoutes(app, deps.loop, deps.audit, deps.now);
  registerFlowsRoutes(app, deps.loop, deps.now, deps.flowsLease);
  registerOtaRoutes(app, deps.ota, deps.audit, deps.now);
  registerMediaRoutes(app, deps.media);
  registerLiveRoutes(app, deps.media, deps.media.live);
  registerTalkDownRoutes(app, deps.commands, (id) => deps.state.get(id));

  // Without the gateway the fleet serves a picture that no longer moves, without its database it
  // can neither register nor keep what it hears: degraded, and a 503 so a load balancer or a probe
  // that reads only the status sees it too.
  app.get('/api/health', async (_req, reply) => {
    const mqtt = deps.ingest.client.connected;
    const storage = await reachable(deps.store.ping(), HEALTH_STORAGE_MS);
    const ok = mqtt && storage;
    return reply.code(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'degraded',
      mqtt: mqtt ? 'connected' : 'disconnected',
      storage: storage ? 'ok' : 'unreachable',
      units: deps.state.list().length,
      messages: deps.ingest.received,
      rejected: Object.fromEntries(deps.ingest.rejected),
    });
  });

  // One `unit` event per change, carrying the whole unit view; a snapshot first so a page
  // that (re)connects needs no second request.
  app.get('/api/events', read, (req, reply) => {
    const { send, onClose } = openSse(req, reply);
    const unit = (u: UnitView) => send('unit', u);
    for (const u of deps.state.list()) unit(u);
    deps.state.on('unit', unit);
    onClose(() => deps.state.off('unit', unit));
  });

  registerDashboardRoutes(app, {
    dashboard: deps.dashboard,
    config: deps.dashboardConfig,
    tokens: deps.tokens,
    audit: deps.audit,
    state: deps.state,
    overlay: deps.overlay,
    loop: deps.loop,
    loopChanges: deps.loopChanges,
    log: deps.log,
    grid: deps.loop.grid,
    history: deps.history,
    tileArchive: deps.tileArchive,
    now: deps.now,
    timeScale: deps.timeScale,
  });
  return app;
}
