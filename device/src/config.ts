import { type Static, Type } from '@sinclair/typebox';

/**
 * The agent's one config schema; defaults live here only. Loaded file → env (SHOUWANG_DEVICE_*) →
 * validate → freeze by @shouwang/runtime. `requiresRestart: true` marks keys that the running agent
 * cannot change in place; `config-set` accepts them, persists them and says a restart is needed.
 * Keys without it apply at once. `secret: true` keys are never returned by `config-get`.
 */
const live = { requiresRestart: false };
const restart = { requiresRestart: true };

export const DeviceConfig = Type.Object({
  unitId: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,31}$', description: 'Unit id; also the MQTT username and client id', ...restart }),
  mode: Type.Union([Type.Literal('sim'), Type.Literal('real')], {
    default: 'real',
    description: 'Hardware: the real board or the simulator',
    ...restart,
  }),
  board: Type.Union([Type.Literal('pi4'), Type.Literal('cm4'), Type.Literal('zero2w')], { default: 'pi4', ...restart }),
  dataDir: Type.Optional(Type.String({ description: 'Outbox and state; default .data/device/<unitId>', ...restart })),
  mqtt: Type.Object(
    {
      url: Type.String({ default: 'mqtt://127.0.0.1:1883', ...restart }),
      password: Type.String({ default: '', secret: true, ...restart }),
      keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 30, ...restart }),
    },
    { default: {} },
  ),
  modem: Type.Object(
    {
      profile: Type.Union([Type.Literal('cellular'), Type.Literal('satellite')], {
        default: 'cellular',
        description: 'Real board: AT dialect of the modem (27.007 cellular or Iridium); in sim mode sim.link decides',
        ...restart,
      }),
    },
    { default: {} },
  ),
  sim: Type.Object(
    {
      lat: Type.Number({ minimum: -90, maximum: 90, default: 45.75, description: 'Deployment site latitude (Harbin)', ...restart }),
      lon: Type.Number({ minimum: -180, maximum: 180, default: 126.63, ...restart }),
      scenario: Type.String({ default: 'harbin-winter', maxLength: 64, ...restart }),
      link: Type.Union([Type.Literal('lte'), Type.Literal('nr'), Type.Literal('satellite')], { default: 'lte', ...restart }),
      timeScale: Type.Number({
        minimum: 0.001,
        maximum: 100_000,
        default: 1,
        description: 'Simulated seconds per real second',
        ...restart,
      }),
      control: Type.Boolean({
        default: true,
        description: 'Run the simulator control server (faults, truth) on loopback, for ./dev sim and demos',
        ...restart,
      }),
      controlPort: Type.Integer({
        minimum: 0,
        maximum: 65_535,
        default: 0,
        description: 'Its port; 0 = any free port. The URL is written to <dataDir>/sim-control.url',
        ...restart,
      }),
    },
    { default: {} },
  ),
  report: Type.Object(
    {
      intervalS: Type.Integer({ minimum: 1, maximum: 86_400, default: 60, description: 'Status report period on the full rung', ...live }),
      heartbeatS: Type.Integer({
        minimum: 60,
        maximum: 86_400,
        default: 1800,
        description: 'An unchanged status (power, location, link) is re-sent after this long; changes go out at the next report',
        ...live,
      }),
      telemetryBatch: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Samples per telemetry batch', ...live }),
      compactOnCellular: Type.Boolean({ default: true, description: 'Compact (CBOR) encoding also on cellular', ...live }),
    },
    { default: {} },
  ),
  outbox: Type.Object(
    {
      quotaBytes: Type.Integer({
        minimum: 65_536,
        default: 64 * 1024 * 1024,
        description: 'Backlog above which telemetry is thinned',
        ...live,
      }),
      satelliteBudgetBytes: Type.Integer({ minimum: 340, default: 20 * 340, description: 'Satellite bytes per UTC day', ...live }),
    },
    { default: {} },
  ),
  site: Type.Object(
    {
      radiusM: Type.Number({
        minimum: 10,
        maximum: 100_000,
        default: 200,
        description: 'Geofence radius around the deployment point',
        ...live,
      }),
      closed: Type.Boolean({ default: false, description: 'Site closed: motion raises an intrusion alarm', ...live }),
    },
    { default: {} },
  ),
  schedule: Type.Object(
    {
      timezone: Type.String({
        // An IANA name (Area/Location) or UTC; checked against the tz database at start (services/time-zone.ts).
        pattern: '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$',
        default: 'Asia/Shanghai',
        description: 'IANA time zone the schedules run in (the agent process local time; restart to apply)',
      }),
      snapshots: Type.String({ default: '0 */15 * * * *', description: 'Camera snapshot schedule (node-cron, with seconds)', ...live }),
      maintenance: Type.String({
        default: '0 0 3 * * *',
        description: 'Maintenance window start (outbox checkpoint, downsampling)',
        ...live,
      }),
    },
    { default: {} },
  ),
});
export type DeviceConfig = Static<typeof DeviceConfig>;
