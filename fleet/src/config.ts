import { type Static, Type } from '@sinclair/typebox';

/** The fleet manager's configuration, defaults inside (file → env SHOUWANG_FLEET_* → validate → freeze). */
export const FleetConfig = Type.Object({
  dataDir: Type.String({ default: '.data/fleet' }),
  timeScale: Type.Number({
    minimum: 1,
    maximum: 10_000,
    default: 1,
    description:
      'Fleet seconds per real second, to judge simulated units whose clocks run faster (./dev start --time-scale) against their own promises; 1 in the field',
  }),
  http: Type.Object(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'API and dashboard; 0 picks a free port' }),
    },
    { default: {} },
  ),
  mqtt: Type.Object(
    {
      url: Type.String({ default: 'mqtt://127.0.0.1:1883' }),
      username: Type.String({ default: 'fleet' }),
      password: Type.String({ default: '' }),
      clientId: Type.String({
        default: '',
        description: "The fleet's MQTT client id; '' = fleet-<alarms.instanceId>, so two instances never take over each other's session",
      }),
    },
    { default: {} },
  ),
  storage: Type.Object(
    {
      url: Type.String({
        default: '',
        description: "'' or 'sqlite:<path>' (default <dataDir>/fleet.db) for one instance; 'postgres://…' for several sharing a registry",
      }),
      flushMs: Type.Integer({ minimum: 10, default: 1000, description: 'Write-behind interval for live state and history' }),
    },
    { default: {} },
  ),
  history: Type.Object(
    {
      influxUrl: Type.String({
        default: '',
        description:
          "The InfluxDB the gateway writes readings to (1.x HTTP API); history is read from it. '' keeps history in the fleet's own storage",
      }),
      database: Type.String({ default: 'shouwang' }),
    },
    { default: {} },
  ),
  auth: Type.Object(
    {
      bootstrapAdminToken: Type.String({
        default: '',
        description: 'Admin bearer token for first use. Unset: reads are open to loopback callers only, writes need a token',
      }),
    },
    { default: {} },
  ),
  registry: Type.Object(
    {
      credentialsFile: Type.String({
        default: '',
        description: "The gateway's credentials file, kept in step with the registry; '' when credentials come from elsewhere",
      }),
      claimTtlH: Type.Integer({ minimum: 1, default: 14 * 24, description: 'How long a claim code stays valid, hours' }),
    },
    { default: {} },
  ),
  dashboard: Type.Object(
    {
      timeZone: Type.String({ default: 'Asia/Shanghai', description: 'IANA time zone the dashboard shows times in' }),
      siteRadiusM: Type.Number({
        minimum: 1,
        default: 50,
        description: 'A unit this close to its deployment point is at site (GNSS wander); drawn as a circle on the map',
      }),
      tiles: Type.Object(
        {
          url: Type.String({
            default: '',
            description: "A tile server the operator runs, '{z}/{x}/{y}' template; '' draws the shipped GeoJSON and nothing is fetched",
          }),
          file: Type.String({
            default: '',
            description: "An offline tile file (PMTiles v3, raster) the fleet serves as the map's base layer, before `url`; '' = none",
          }),
          attribution: Type.String({ default: '' }),
          maxZoom: Type.Integer({ minimum: 1, maximum: 22, default: 18 }),
        },
        { default: {} },
      ),
      overlayPollMs: Type.Integer({
        minimum: 100,
        default: 2000,
        description: "How often the map's standing alarms per unit and open tickets per cell are read from the database",
      }),
    },
    { default: {} },
  ),
  liveness: Type.Object(
    {
      silenceS: Type.Integer({ minimum: 1, default: 900, description: 'Silence allowed to a unit that declared no nextContactBy' }),
      graceMinS: Type.Integer({ minimum: 0, default: 600, description: 'Least slack after a missed deadline before late becomes missing' }),
      graceFraction: Type.Number({ minimum: 0, default: 0.25, description: 'Slack as a fraction of the planned sleep, when larger' }),
      emptySoc: Type.Number({
        minimum: 0,
        maximum: 100,
        default: 10,
        description: 'A silent unit at or under this charge, %, is presumed out of power',
      }),
      sweepS: Type.Integer({ minimum: 1, default: 5, description: 'How often liveness is re-classified as time passes' }),
    },
    { default: {} },
  ),
  alarms: Type.Object(
    {
      rulesFile: Type.String({ default: '', description: "Alarm rules (JSON, see src/domain/alarm-rules.ts); '' = the shipped defaults" }),
      instanceId: Type.String({
        default: '',
        description:
          "This instance's name, stable across restarts and distinct per instance: the alarm session's client id and the timers' owner. '' = the host name",
      }),
    },
    { default: {} },
  ),
  grid: Type.Object(
    {
      file: Type.String({ default: '', description: "The city's grid cells (GeoJSON); '' = the shipped SYNTHETIC Harbin sample" }),
      cityDispatcher: Type.String({
        default: 'Harbin city command centre',
        description: 'Who dispatches a ticket from outside every district',
      }),
    },
    { default: {} },
  ),
  tickets: Type.Object(
    {
      calendarFile: Type.String({
        default: '',
        description: "Holidays and make-up working days for years the chinese-days package does not cover yet; '' = none",
      }),
      deadlinesFile: Type.String({
        default: '',
        description: "Deadline rules (JSON array, see src/domain/ticket-flow.ts); '' = the shipped defaults",
      }),
      workingHours: Type.Array(Type.String({ pattern: '^\\d\\d:\\d\\d-\\d\\d:\\d\\d$' }), {
        default: ['08:30-12:00', '13:00-17:30'],
        minItems: 1,
        description: 'Working hours of a working day, local time',
      }),
      utcOffsetMin: Type.Integer({ default: 480, description: 'Local time for working hours, minutes east of UTC (China: 480)' }),
      timerPollS: Type.Number({
        exclusiveMinimum: 0,
        default: 5,
        description: 'How often due deadline warnings and escalations are fired',
      }),
    },
    { default: {} },
  ),
  ota: Type.Object(
    {
      trustedKeysFile: Type.String({
        default: '',
        description:
          "Release signing keys the fleet accepts (the units' TrustedKeys JSON, kept outside the repository); '' = no release is accepted",
      }),
      publicUrl: Type.String({
        default: '',
        description: "Base URL units download artifacts from; '' = http://<http.host>:<bound port>",
      }),
      urlSecret: Type.String({
        default: '',
        description:
          "Key of the signed download links; set the same on every instance. '' = a random key per start (links die with the process)",
      }),
      timerPollS: Type.Number({ exclusiveMinimum: 0, default: 5, description: 'How often due waves and campaign deadlines are fired' }),
      recheckS: Type.Number({
        exclusiveMinimum: 0,
        default: 60,
        description: 'How soon a wave held back by units still working is looked at again',
      }),
      answerS: Type.Number({
        exclusiveMinimum: 0,
        default: 30,
        description: 'How long a job handed to an awake unit waits for its answer',
      }),
      retryS: Type.Number({
        exclusiveMinimum: 0,
        default: 300,
        description: 'A job handed to a unit that stays online without answering is handed again after this long',
      }),
    },
    { default: {} },
  ),
  /** The flows' side of the fleet (fleet/src/flows): how waiting leases look for events, and how long delivered ones are kept. */
  flows: Type.Object(
    {
      lease: Type.Object(
        {
          recheckMs: Type.Integer({
            minimum: 10,
            default: 500,
            description:
              "While other instances' commits are not heard (PostgreSQL listener down), a waiting lease asks for their events this often",
          }),
          safetyMs: Type.Integer({
            minimum: 100,
            default: 10_000,
            description: 'While they are heard (their commits notify), a waiting lease asks again this often anyway',
          }),
        },
        { default: {}, additionalProperties: false },
      ),
      outbox: Type.Object(
        {
          keepDays: Type.Number({
            exclusiveMinimum: 0,
            default: 30,
            description: 'Delivered ticket events older than this are deleted; undelivered and dead-lettered ones are kept',
          }),
          pruneBatch: Type.Integer({ minimum: 1, default: 500, description: 'Rows deleted per statement while pruning' }),
          intervalS: Type.Number({
            minimum: 60,
            default: 3600,
            description: 'How often delivered events are pruned (once across instances)',
          }),
          pollS: Type.Number({ exclusiveMinimum: 0, default: 60, description: 'How often each instance looks for a due pruning' }),
        },
        { default: {}, additionalProperties: false },
      ),
    },
    { default: {}, additionalProperties: false },
  ),
  /** Media from units (fleet/src/media): where verified files go and how much each unit may store. */
  media: Type.Object(
    {
      store: Type.Union([Type.Literal('file'), Type.Literal('s3')], {
        default: 'file',
        description: "'file': a folder under media.dir; 's3': an S3-compatible service (media.s3)",
      }),
      dir: Type.String({ default: '', description: "Staging (and the file store); '' = <dataDir>/media" }),
      unitQuotaBytes: Type.Integer({
        minimum: 1024 * 1024,
        default: 20 * 1024 * 1024 * 1024,
        description: 'Media one unit may have stored and on the way; past it its files are refused',
      }),
      /** What is kept and for how long (src/media/retention.ts); evidence of an open ticket or an uncleared alarm is always kept. */
      retention: Type.Object(
        {
          keepDays: Type.Number({ exclusiveMinimum: 0, default: 90, description: 'Stored media older than this is deleted' }),
          liveKeepHours: Type.Number({
            exclusiveMinimum: 0,
            default: 24,
            description: "Live feeds' stored segments older than this are deleted",
          }),
          storeQuotaBytes: Type.Integer({
            minimum: 0,
            default: 0,
            description: 'Past this many stored bytes the oldest media goes first (file or S3 store); 0 = no quota',
          }),
          stagingMaxAgeH: Type.Number({
            exclusiveMinimum: 0,
            default: 72,
            description:
              'A partial upload no chunk has reached for this long is abandoned: its staging file goes, its row is kept as abandoned',
          }),
          intervalS: Type.Number({ minimum: 60, default: 3600, description: 'How often the policy runs (once across instances)' }),
          pollS: Type.Number({ exclusiveMinimum: 0, default: 60, description: 'How often each instance looks for a due run' }),
        },
        { default: {} },
      ),
      s3: Type.Object(
        {
          endpoint: Type.String({ default: 'http://127.0.0.1:9000', description: 'http(s)://host:port of the S3-compatible service' }),
          region: Type.String({ default: 'us-east-1' }),
          bucket: Type.String({ default: 'shouwang-media' }),
          accessKey: Type.String({ default: '' }),
          secretKey: Type.String({ default: '' }),
          pathStyle: Type.Boolean({ default: true, description: 'host/bucket/key addressing, as self-hosted services expect' }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
});
export type FleetConfig = Static<typeof FleetConfig>;
