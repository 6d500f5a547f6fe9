import { StringEnum } from '@shouwang/protocol';
import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { OTA_CUT_POINTS } from './domain/ota-plan.ts';

/**
 * The agent's one config schema; defaults live here only. Loaded file → env (SHOUWANG_DEVICE_*) →
 * validate → freeze by @shouwang/runtime. `requiresRestart: true` marks keys that the running agent
 * cannot change in place; `config-set` accepts them, persists them and says a restart is needed.
 * Keys marked `requiresRestart: false` are applied at once by the running agent. `secret: true` keys are never returned by `config-get`.
 */
const live = { requiresRestart: false };
const restart = { requiresRestart: true };
/** Unknown keys are refused, with their path (a misspelt `gps.paht` must not load as a default). */
const closed = { additionalProperties: false } as const;

const SerialPath = Type.String({ minLength: 1, maxLength: 64, pattern: '^/', description: 'Device path, e.g. /dev/ttyUSB1' });
const BaudRate = Type.Integer({ minimum: 1200, maximum: 921_600, description: 'Bd' });

/** One serial part: on or off, and its port when it is not where the board definition puts it. */
function serialPart<E extends TProperties>(what: string, extra: E) {
  return Type.Object(
    {
      enabled: Type.Boolean({ default: true, description: `Whether this unit has a ${what}`, ...restart }),
      path: Type.Optional({ ...SerialPath, description: `${what} port; default from the board definition`, ...restart }),
      baudRate: Type.Optional({ ...BaudRate, description: `${what} baud rate; default from the board definition`, ...restart }),
      ...extra,
    },
    { default: {}, ...closed },
  );
}

export const DeviceConfig = Type.Object(
  {
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
      { default: {}, ...closed },
    ),
    modem: serialPart('modem', {
      timeoutMs: Type.Integer({
        minimum: 100,
        maximum: 60_000,
        default: 2000,
        description: 'Per-attempt AT answer timeout; raise it for a modem that answers slowly (an answer past it is discarded as late)',
        ...restart,
      }),
      profile: Type.Union([Type.Literal('cellular'), Type.Literal('satellite')], {
        default: 'cellular',
        description: 'Real board: AT dialect of the modem (27.007 cellular or Iridium); in sim mode sim.link decides',
        ...restart,
      }),
    }),
    gps: serialPart('GNSS receiver', {
      silentAfterS: Type.Integer({
        minimum: 1,
        maximum: 600,
        default: 10,
        description: 'A receiver quiet this long is reported silent, its port reopened, and its fix no longer current',
        ...restart,
      }),
    }),
    parts: Type.Object(
      {
        io: Type.Boolean({ default: true, description: 'Power monitors and sensors (the IO plugin)', ...restart }),
        camera: Type.Boolean({ default: true, ...restart }),
      },
      { default: {}, ...closed },
    ),
    real: Type.Object(
      {
        simulateIo: Type.Boolean({
          default: false,
          description: 'Real mode: simulate the IO plugin (monitors, sensors) and the camera, for a bench with only a GPS and a modem',
          ...restart,
        }),
      },
      { default: {}, ...closed },
    ),
    sim: Type.Object(
      {
        lat: Type.Number({
          minimum: -90,
          maximum: 90,
          default: 45.75,
          description: 'Where the simulated unit stands (Harbin)',
          ...restart,
        }),
        lon: Type.Number({ minimum: -180, maximum: 180, default: 126.63, ...restart }),
        scenario: Type.String({ default: 'harbin-winter', maxLength: 64, ...restart }),
        link: Type.Union([Type.Literal('lte'), Type.Literal('nr'), Type.Literal('satellite')], { default: 'lte', ...restart }),
        linkKbps: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 1_000_000,
            description:
              "The simulated uplink's rate, kbit/s, in place of its link's (LTE 16 Mbit/s, NR 80 Mbit/s, satellite 2.4 kbit/s): 512 for a thin 4G cell",
            ...restart,
          }),
        ),
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
      { default: {}, ...closed },
    ),
    report: Type.Object(
      {
        intervalS: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 60,
          description: 'Status report period on the full rung',
          ...live,
        }),
        heartbeatS: Type.Integer({
          minimum: 60,
          maximum: 86_400,
          default: 1800,
          description: 'An unchanged status (power, location, link) is re-sent after this long; changes go out at the next report',
          ...live,
        }),
        telemetryBatch: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Samples per telemetry batch', ...restart }),
        compactOnCellular: Type.Boolean({ default: true, description: 'Compact (CBOR) encoding also on cellular', ...live }),
      },
      { default: {}, ...closed },
    ),
    outbox: Type.Object(
      {
        quotaBytes: Type.Integer({
          minimum: 65_536,
          default: 64 * 1024 * 1024,
          description: 'Backlog above which telemetry is thinned',
          ...restart,
        }),
        satelliteBudgetBytes: Type.Integer({ minimum: 340, default: 20 * 340, description: 'Satellite bytes per UTC day', ...live }),
      },
      { default: {}, ...closed },
    ),
    /** The bulk lane: media files waiting to upload (services/bulk-store.ts, bulk-sender.ts). */
    bulk: Type.Object(
      {
        quotaBytes: Type.Integer({
          minimum: 1024 * 1024,
          default: 1024 * 1024 * 1024,
          description:
            'Media held for upload; whole unpinned recordings are evicted beyond it (alarm clips never before the fleet has them)',
          ...restart,
        }),
        alarmWaitMs: Type.Integer({
          minimum: 100,
          maximum: 10_000,
          default: 1000,
          description: 'Longest an alarm may queue behind media on the wire; sizes the lane’s byte window and chunks',
          ...restart,
        }),
        liveMaxAgeMs: Type.Integer({ minimum: 500, default: 5000, description: 'A live segment not sent by then is dropped', ...restart }),
        ackTimeoutS: Type.Integer({
          minimum: 5,
          default: 60,
          description: 'A file all sent and not confirmed by the fleet this long has its last KiB sent again (the fleet answers it)',
          ...restart,
        }),
      },
      { default: {}, ...closed },
    ),
    /** Video on the unit (services/recorder-control.ts and what it drives; the ladder in domain/video-ladder.ts). */
    video: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Record the camera (a unit with parts.camera off never does)', ...restart }),
        source: Type.Union([Type.Literal('camera'), Type.Literal('rtsp')], {
          default: 'camera',
          description: "The board's camera and microphone, or an RTSP camera on the mast (its own audio track)",
          ...restart,
        }),
        rtspUrl: Type.Optional(
          Type.String({
            pattern: '^rtsps?://',
            maxLength: 256,
            description: 'The mast camera, e.g. rtsp://192.168.1.64/Streaming/Channels/101',
            ...restart,
          }),
        ),
        planBytes: Type.Integer({
          minimum: 1_000_000,
          default: 2_000_000_000,
          description: "The SIM plan's monthly bytes: the ladder keeps the month-end forecast under it",
          ...live,
        }),
        ringQuotaBytes: Type.Integer({
          minimum: 16 * 1024 * 1024,
          default: 512 * 1024 * 1024,
          description: 'Disk for the recording ring and the clips being made (~60 min at 1 Mbit/s)',
          ...restart,
        }),
        segmentS: Type.Number({
          minimum: 0.5,
          maximum: 10,
          default: 2,
          description: 'Ring segment length, s (a power cut loses at most one)',
          ...restart,
        }),
        preRollS: Type.Integer({
          minimum: 0,
          maximum: 120,
          default: 10,
          description: "An alarm clip's seconds before the alarm",
          ...restart,
        }),
        postRollS: Type.Integer({ minimum: 2, maximum: 300, default: 20, description: "An alarm clip's seconds after it", ...restart }),
        stockDir: Type.Optional(
          Type.String({ description: 'Stock talk-down messages (<name>.ogg or .wav); default <dataDir>/stock', ...restart }),
        ),
      },
      { default: {}, ...closed },
    ),
    site: Type.Object(
      {
        lat: Type.Optional(
          Type.Number({
            minimum: -90,
            maximum: 90,
            description: 'Deployment site latitude (pushed by the fleet when the unit is claimed or moved); no geofence without it',
            ...live,
          }),
        ),
        lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180, description: 'Deployment site longitude', ...live })),
        radiusM: Type.Number({
          minimum: 10,
          maximum: 100_000,
          default: 200,
          description: 'Geofence radius around the deployment point',
          ...live,
        }),
        closed: Type.Boolean({ default: false, description: 'Site closed: motion raises an intrusion alarm', ...live }),
      },
      { default: {}, ...closed },
    ),
    ota: Type.Object(
      {
        slotsDir: Type.Optional(
          Type.String({
            maxLength: 256,
            description: 'The A/B slots folder the agent runs from (deploy/shouwang-device.service); without it update jobs are refused',
            ...restart,
          }),
        ),
        trustedKeys: Type.Optional(
          Type.String({
            maxLength: 256,
            description: 'Trusted release signing keys (JSON, protocol TrustedKeys); none = no release is trusted',
            ...restart,
          }),
        ),
        maxBoots: Type.Integer({
          minimum: 1,
          maximum: 10,
          default: 3,
          description: 'Starts a new release gets to pass its health check before the launcher rolls back',
          ...restart,
        }),
        healthDeadlineS: Type.Integer({
          minimum: 10,
          maximum: 3600,
          default: 300,
          description: 'A new release must pass its health check (publish acknowledged, GPS fix, camera frame, alarm path) within this',
          ...restart,
        }),
        retryS: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 60,
          description: 'How often a waiting or interrupted update is tried again',
          ...restart,
        }),
        simPowerCutAt: Type.Optional(
          StringEnum(OTA_CUT_POINTS, {
            description: 'Simulator only: cut the power (SIGKILL) once, at this point of an update, to test recovery',
          }),
        ),
      },
      { default: {}, ...closed },
    ),
    schedule: Type.Object(
      {
        timezone: Type.String({
          // An IANA name (Area/Location) or UTC; checked against the tz database at start (services/time-zone.ts).
          pattern: '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$',
          default: 'Asia/Shanghai',
          description: 'IANA time zone the schedules run in (the agent process local time; restart to apply)',
          ...restart,
        }),
        snapshots: Type.String({
          default: '0 */15 * * * *',
          description: 'Camera snapshot schedule (node-cron, with seconds)',
          ...restart,
        }),
        maintenance: Type.String({
          default: '0 0 3 * * *',
          description: 'Maintenance window start (outbox checkpoint, downsampling)',
          ...restart,
        }),
      },
      { default: {}, ...closed },
    ),
  },
  closed,
);
export type DeviceConfig = Static<typeof DeviceConfig>;
