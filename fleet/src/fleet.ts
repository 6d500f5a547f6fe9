import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { type AlarmLoop, startAlarmLoop } from './alarms/loop.ts';
import { bundleDashboard } from './api/dashboard-bundle.ts';
import { checkTimeZone } from './api/dashboard-routes.ts';
import { createApi } from './api/server.ts';
import { openTileArchive } from './api/tile-archive.ts';
import { TokenService } from './auth/tokens.ts';
import type { FleetConfig } from './config.ts';
import { startOutboxPruning } from './flows/outbox-pruning.ts';
import { type Media, startMedia } from './media/media.ts';
import { type Ota, startOta } from './ota/ota.ts';
import { CredentialsWriter } from './registry/credentials-file.ts';
import { Registry } from './registry/registry.ts';
import { pushSiteToUnit } from './registry/site-push.ts';
import { CommandClient } from './services/commands.ts';
import { DashboardOverlay } from './services/dashboard-overlay.ts';
import { type Clock, FleetState, fleetClock } from './services/fleet-state.ts';
import { type LoopChangeSource, LoopChanges } from './services/loop-changes.ts';
import { type MqttIngest, startMqttIngest } from './services/mqtt-ingest.ts';
import { fromStateRow, startPersister } from './services/persister.ts';
import { LOOP_CHANNEL, SharedLoopChanges } from './services/shared-loop-changes.ts';
import { commissioningSummary, UnitCommands } from './services/unit-commands.ts';
import { AuditStore } from './storage/audit-store.ts';
import { InfluxPowerHistory } from './storage/influx-history.ts';
import { openDatabase } from './storage/open.ts';
import { notify, PgListener } from './storage/pg-notify.ts';
import { FleetStore } from './storage/store.ts';

export interface Fleet {
  state: FleetState;
  store: FleetStore;
  registry: Registry;
  ingest: MqttIngest;
  loop: AlarmLoop;
  /** What the alarm loop commits, as the dashboard's live views hear it. */
  loopChanges: LoopChangeSource;
  ota: Ota;
  media: Media;
  httpPort: number;
  close(): Promise<void>;
}

/** Wires the fleet manager: MQTT ingest → live state → HTTP API, SSE and dashboard. */
export async function startFleet(config: FleetConfig, log: Logger, options: { clock?: Clock } = {}): Promise<Fleet> {
  checkTimeZone(config.dashboard);
  const tileArchive = config.dashboard.tiles.file ? await openTileArchive(config.dashboard.tiles.file) : null;
  const l = config.liveness;
  const injected = options.clock;
  // Bound once: an injected clock may be an object whose now() reads its own fields, and parts are handed `clock.now` alone.
  const clock: Clock = injected ? { now: () => injected.now() } : fleetClock(config.timeScale);
  const state = new FleetState({
    clock,
    policy: { silenceMs: l.silenceS * 1000, graceMinMs: l.graceMinS * 1000, graceFraction: l.graceFraction, emptySoc: l.emptySoc },
  });
  const { db, dialect } = await openDatabase(config.storage.url, config.dataDir, (err) =>
    log.warn({ err: err.message }, 'database connection lost while idle; the next query opens another'),
  );
  const store = new FleetStore(db);
  const rows = await store.loadStates();
  for (const row of rows) state.restore(fromStateRow(row));
  log.info({ dialect, units: rows.length }, 'storage open; live state restored');
  const credentials = config.registry.credentialsFile ? new CredentialsWriter(config.registry.credentialsFile) : null;
  let pushSite: ((unitId: string, site: { lat: number; lon: number }) => Promise<void>) | undefined;
  const registry = new Registry({
    store,
    state,
    credentials,
    clock,
    claimTtlMs: config.registry.claimTtlH * 3_600_000,
    pushSite: async (unitId, site) => pushSite?.(unitId, site),
  });
  const tokens = new TokenService(store, config.auth.bootstrapAdminToken, clock);
  // The file may have been edited or lost while the fleet was down: the registry is the truth.
  await registry.syncCredentials();
  if (!tokens.enforced) log.warn('no auth.bootstrapAdminToken: reads open to loopback callers, writes need a token');
  const influx = config.history.influxUrl;
  const history = influx ? new InfluxPowerHistory(influx, config.history.database) : store;
  const persister = startPersister(state, store, config.storage.flushMs, log.child({ module: 'storage' }), !influx);
  // One name per instance: the broker keeps one session per client id, and two instances sharing one would evict each other.
  const instanceId = config.alarms.instanceId || hostname();
  const mqtt = { ...config.mqtt, clientId: config.mqtt.clientId || `fleet-${instanceId}` };
  const ingest = startMqttIngest(mqtt, state, log.child({ module: 'mqtt' }));
  // Requests ride the ingest's session: one service connection to the gateway.
  // A command's expiry is judged by the unit, on the time it shares with the fleet: the fleet's own
  // clock (the wall's, or scaled alike with the units' in a time-scaled demo), never one injected into the fleet alone.
  const commandClient = new CommandClient(ingest.client, injected ? {} : { now: clock.now });
  const commands = new UnitCommands(commandClient, store, (r) => state.setCommissioning(r.unitId, commissioningSummary(r)), clock.now);
  pushSite = (unitId, site) => pushSiteToUnit(commandClient, unitId, site, log.child({ module: 'registry', unitId }));
  await commands.restore();
  state.on('judged', (unitId, item) => {
    commands.judged(unitId, item).then(
      (run) =>
        log.info(
          { module: 'commissioning', unitId, item, run: run?.id ?? null },
          run ? 'daylight re-check recorded' : 'daylight re-check: no run pending it',
        ),
      (err: unknown) => log.error({ module: 'commissioning', unitId, item, err }, 'daylight re-check not recorded'),
    );
  });
  const media = await startMedia({ config, mqtt, instanceId, db, commands: commandClient, clock, unit: (id) => state.get(id), log });
  const loopChanges = new LoopChanges();
  const loop = await startAlarmLoop({
    config,
    mqtt,
    instanceId,
    db,
    dialect,
    state,
    clock,
    // Each alarm's evidence head, from the intake once its batch committed: the media session does not take alarms.
    stored: (messages) =>
      media.evidence.takeAlarms(messages.flatMap((m) => (m.kind === 'alarm' ? [{ unitId: m.unitId, alarm: m.payload }] : []))),
    changed: (c) => loopChanges.note(c),
    log,
  });
  // Another instance's commit wakes this one's waiting flows leases (SQLite: one instance, its own wake is all).
  const listener =
    dialect === 'postgres' ? new PgListener({ url: config.storage.url, log: log.child({ module: 'pg-notify' }) }).start() : null;
  if (listener) loop.outbox.hear(listener);
  // The live views hear every instance's commits, not only this one's.
  const shared = listener
    ? new SharedLoopChanges({
        local: loopChanges,
        listener,
        send: (p) => notify(db, LOOP_CHANNEL, p),
        log: log.child({ module: 'loop-feed' }),
      })
    : null;
  const changes: LoopChangeSource = shared ?? loopChanges;
  const pruning = await startOutboxPruning({
    db,
    outbox: loop.outbox,
    policy: config.flows.outbox,
    clock,
    instanceId,
    log: log.child({ module: 'flows' }),
  });
  const { now } = clock;
  let httpPort = config.http.port;
  const ota = startOta({
    config,
    db,
    store,
    state,
    client: ingest.client,
    commands: commandClient,
    clock,
    instanceId,
    httpBase: () => `http://${config.http.host}:${httpPort}`,
    log,
  });
  const overlay = new DashboardOverlay({ db, now, log: log.child({ module: 'dashboard' }) });
  await overlay.start(config.dashboard.overlayPollMs);
  const api = await createApi({
    state,
    store,
    history,
    registry,
    tokens,
    ingest,
    commands,
    loop,
    loopChanges: changes,
    ota,
    media,
    dashboard: await bundleDashboard(),
    dashboardConfig: config.dashboard,
    flowsLease: config.flows.lease,
    overlay,
    tileArchive,
    timeScale: config.timeScale,
    audit: new AuditStore(db),
    now,
    log,
  });
  try {
    await api.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await ota.close();
    await pruning.close();
    shared?.close();
    await listener?.close();
    await overlay.close();
    await media.close();
    await loop.close();
    await ingest.close();
    await persister.close();
    await store.close();
    throw err;
  }
  const address = api.server.address();
  if (typeof address === 'object' && address) httpPort = address.port;
  // Liveness changes with time alone (a deadline passes): re-classify on a beat.
  const sweep = setInterval(() => state.sweep(), l.sweepS * 1000);
  return {
    state,
    store,
    registry,
    ingest,
    loop,
    loopChanges,
    ota,
    httpPort,
    media,
    async close() {
      clearInterval(sweep);
      await api.close();
      await ota.close();
      await pruning.close();
      shared?.close();
      await listener?.close();
      commandClient.close();
      await overlay.close();
      await media.close();
      await loop.close();
      await ingest.close();
      await persister.close();
      await store.close();
    },
  };
}
