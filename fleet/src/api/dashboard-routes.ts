import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Feature, FeatureCollection } from 'geojson';
import type { Logger } from 'pino';
import type { AlarmLoop } from '../alarms/loop.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { FleetConfig } from '../config.ts';
import type { DashboardUnit } from '../domain/dashboard-overlay.ts';
import type { UnitView } from '../domain/unit-state.ts';
import type { Grid } from '../grid/grid.ts';
import type { DashboardOverlay } from '../services/dashboard-overlay.ts';
import type { FleetState } from '../services/fleet-state.ts';
import type { LoopChangeSource } from '../services/loop-changes.ts';
import { type AuditStore, auditEntry } from '../storage/audit-store.ts';
import type { LocationHistorySource } from '../storage/influx-history.ts';
import type { DashboardAssets } from './dashboard-bundle.ts';
import { LoopFeed } from './loop-feed.ts';
import { AuditAnswer, answers } from './loop-schemas.ts';
import { ID_PARAMS, limitQuery } from './params.ts';
import { openSse } from './sse.ts';
import { registerTileArchive, TILE_ARCHIVE_ROUTE, type TileArchive } from './tile-archive.ts';

/** The page formats every time in this zone: an unknown one would break it in every browser, so it stops the start. */
export function checkTimeZone(config: FleetConfig['dashboard']): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: config.timeZone });
  } catch {
    throw new Error(`dashboard.timeZone: unknown time zone '${config.timeZone}' (an IANA name such as Asia/Shanghai)`);
  }
}

/** The grid as the map draws it: each area's level, id, names and parent, and its outline (teams and departments stay on the fleet). */
function gridOutline(grid: Grid): FeatureCollection {
  const keep = ['level', 'id', 'name', 'name_zh', 'parent'];
  return {
    type: 'FeatureCollection',
    features: grid.source.features.map(
      (f): Feature => ({
        type: 'Feature',
        properties: Object.fromEntries(Object.entries(f.properties ?? {}).filter(([k]) => keep.includes(k))),
        geometry: f.geometry,
      }),
    ),
  };
}

/**
 * What the dashboard needs besides the unit API: its page and script, who the caller is (the
 * sign-in screen checks a token here), how to draw (time zone, tile source, the fleet's clock),
 * the grid the tickets are routed on, the live stream with each unit's standing alarms and each
 * cell's open tickets, and each unit's audit log.
 */
export function registerDashboardRoutes(
  app: FastifyInstance,
  deps: {
    dashboard: DashboardAssets;
    config: FleetConfig['dashboard'];
    tokens: TokenService;
    audit: AuditStore;
    state: FleetState;
    overlay: DashboardOverlay;
    loop: AlarmLoop;
    loopChanges: LoopChangeSource;
    log: Logger;
    grid: Grid;
    history: LocationHistorySource;
    tileArchive: TileArchive | null;
    now: () => number;
    timeScale: number;
  },
): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(deps.dashboard.html));
  app.get('/app.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(deps.dashboard.js),
  );

  // The page counts ages and deadlines from the fleet's now, moving at the fleet's rate (--time-scale).
  const clock = () => ({ now: deps.now(), scale: deps.timeScale });
  // The base layer as the page reads it: an offline tile file the fleet serves, else a tile server, else none (the shipped outlines).
  const a = deps.tileArchive;
  if (a) registerTileArchive(app, a);
  const { url, attribution, maxZoom } = deps.config.tiles;
  // Zoomed past the archive's deepest tiles, its tiles are scaled up (nativeMaxZoom), so units and cells stay reachable.
  const tiles = { archive: a ? TILE_ARCHIVE_ROUTE : '', url: a ? '' : url, attribution, maxZoom, nativeMaxZoom: a?.maxZoom ?? maxZoom };
  const page = { timeZone: deps.config.timeZone, siteRadiusM: deps.config.siteRadiusM, tiles };
  // Open: the page needs it before anyone signs in, and it holds nothing secret (no file path).
  app.get('/api/dashboard/config', async () => ({ ...page, clock: clock() }));

  // Some hundred kB of outlines (a tenth gzipped, for a phone on 4G): built once, and a page that has them already gets a 304.
  const grid = JSON.stringify(gridOutline(deps.grid));
  const gridGz = gzipSync(grid);
  const etag = `"${createHash('sha256').update(grid).digest('base64url').slice(0, 27)}"`;
  app.get(
    '/api/dashboard/grid',
    { config: { action: 'read', summary: 'The grid tickets are routed on (district → street → community → cell), as GeoJSON outlines' } },
    async (req, reply) => {
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(gridGz);
      return reply.send(grid);
    },
  );

  const feed = new LoopFeed({ loop: deps.loop, source: deps.loopChanges, now: deps.now, log: deps.log.child({ module: 'loop-feed' }) });
  app.addHook('onClose', () => feed.close());
  app.get(
    '/api/dashboard/events',
    {
      config: {
        action: 'read',
        summary:
          'Server-Sent Events for the dashboard: `clock`, `cells` (open tickets per grid cell), then a `unit` (the unit view with its standing `alarms`) per unit and per change; `alarms`, `flood` and `tickets` with the rows the alarm loop changed (as GET /api/alarms, /api/alarms/flood and /api/tickets answer them), at most one of each per 250 ms',
      },
    },
    (req, reply) => {
      const { send, onClose } = openSse(req, reply, () => send('clock', clock()));
      const unit = (u: UnitView) => send('unit', { ...u, alarms: deps.overlay.alarmsOf(u.id) } satisfies DashboardUnit);
      const alarms = (id: string) => {
        const u = deps.state.get(id);
        if (u) unit(u);
      };
      const cells = (c: unknown) => send('cells', c);
      send('clock', clock());
      cells(deps.overlay.cells);
      for (const u of deps.state.list()) unit(u);
      deps.state.on('unit', unit);
      deps.overlay.on('alarms', alarms);
      deps.overlay.on('cells', cells);
      // The stream needs `read`, as the alarm and ticket routes do, and they narrow by no role or
      // district: whoever may open it may read every row it pushes.
      const loopAlarms = (e: unknown) => send('alarms', e);
      const flood = (e: unknown) => send('flood', e);
      const tickets = (e: unknown) => send('tickets', e);
      feed.on('alarms', loopAlarms);
      feed.on('flood', flood);
      feed.on('tickets', tickets);
      onClose(() => {
        deps.state.off('unit', unit);
        deps.overlay.off('alarms', alarms);
        deps.overlay.off('cells', cells);
        feed.off('alarms', loopAlarms);
        feed.off('flood', flood);
        feed.off('tickets', tickets);
      });
    },
  );

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

  app.get<{ Params: { id: string }; Querystring: { hours: number; limit: number } }>(
    '/api/units/:id/history/location',
    {
      config: { action: 'read', summary: "The unit's positions with a fix over the last `hours`, oldest first: its track" },
      schema: {
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: {
            hours: { type: 'number', minimum: 0.1, maximum: 24 * 31, default: 24 },
            limit: { type: 'integer', minimum: 1, maximum: 5000, default: 500 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const to = deps.now();
      const rows = await deps.history.locationHistory(req.params.id, to - req.query.hours * 3_600_000, to, req.query.limit);
      return { id: req.params.id, points: rows.map((r) => ({ ts: r.ts, lat: r.lat, lon: r.lon })) };
    },
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
