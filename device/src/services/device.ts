import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CameraSource, type Clock, type Speaker, sunElevationDeg, systemClock } from '@shouwang/hardware';
import { commissionFailed, type LinkType } from '@shouwang/protocol';
import type { Logger } from 'pino';
import type { DeviceConfig } from '../config.ts';
import { DEFAULT_ALARM_CONFIG } from '../domain/alarms.ts';
import type { OtaCutPoint } from '../domain/ota-plan.ts';
import type { BatterySpec } from '../domain/power.ts';
import { linkPolicy } from '../domain/upload-policy.ts';
import { FULL_SNAPSHOT, videoPlan } from '../domain/video-ladder.ts';
import { AtModem } from '../drivers/at-modem.ts';
import { type ModemProfile, readLink, setRadio } from '../drivers/link-reader.ts';
import { NmeaReceiver } from '../drivers/nmea.ts';
import { Agent } from './agent.ts';
import { BulkSender } from './bulk-sender.ts';
import { BulkStore } from './bulk-store.ts';
import { CommandHandler } from './commands.ts';
import { DaylightRecheck } from './commission-recheck.ts';
import { runCommissioning } from './commissioning.ts';
import { ConfigStore } from './config-store.ts';
import { connectMqtt } from './mqtt-connect.ts';
import type { OtaService } from './ota-service.ts';
import { Outbox } from './outbox.ts';
import { type BoardParts, openSensors, openSerialParts, type SerialParts } from './parts.ts';
import { VideoControl } from './recorder-control.ts';
import { Scheduler } from './scheduler.ts';
import type { BoardSensors } from './sensors.ts';
import { Snapshots } from './snapshots.ts';
import { logSchema } from './state-migrations.ts';
import { Uplink } from './uplink.ts';

/**
 * Wires one running agent from an opened board (real or simulated: the same wire-level handles)
 * and the config. Returned `close` stops everything in reverse order.
 */
export interface DeviceBoard extends BoardParts {
  boardId: string;
  clock: Clock;
  camera?: CameraSource;
  /** The loudspeaker (talk-down), when the board has one. */
  speaker?: Speaker;
  modemProfile: ModemProfile;
  battery: BatterySpec;
  /** Where the MQTT client dials (the simulator's shaped link in sim mode), else the configured URL. */
  mqttUrl: string;
}

export interface RunningDevice {
  agent: Agent;
  uplink: Uplink;
  outbox: Outbox;
  /** The bulk lane: `bulk.enqueueFile(path, { recording, kind, pinned })` hands a finished media file to the upload. */
  bulk: BulkStore;
  /** Recording, clips, stills, live and talk-down; absent without a camera or with video.enabled off. */
  video: VideoControl | undefined;
  gps: NmeaReceiver;
  modem: AtModem;
  sensors: BoardSensors | undefined;
  ports: SerialParts;
  commands: CommandHandler;
  /** The charge check a night-time commissioning left for daylight. */
  recheck: DaylightRecheck;
  close(): Promise<void>;
}

/** A release bundle has its version built in (deploy/build.ts defines this expression); sources run as 0.1.0. */
export const AGENT_VERSION = process.env.SHOUWANG_AGENT_VERSION ?? '0.1.0';

/** Once per data dir, so the restarted agent gets past the point it was cut at. */
function simPowerCut(at: OtaCutPoint, marker: string): (point: OtaCutPoint) => void {
  return (point) => {
    if (point !== at || existsSync(marker)) return;
    writeFileSync(marker, point);
    process.kill(process.pid, 'SIGKILL');
  };
}

export async function startDevice(
  cfg: DeviceConfig,
  board: DeviceBoard,
  log: Logger,
  hooks: { restart: (why: 'restart' | 'reboot') => void; exit?: () => void },
): Promise<RunningDevice> {
  const dataDir = cfg.dataDir ?? join('.data', 'device', cfg.unitId);
  const clock = board.clock;
  const startedAt = clock.now();

  // I/O timeouts and port silence are physical latencies: wall clock, even when the unit's clock runs simulated time faster.
  const silentAfterMs = cfg.gps.silentAfterS * 1000;
  const gps = new NmeaReceiver({ clock: systemClock, staleAfterMs: silentAfterMs });
  const modem = new AtModem(undefined, { clock: systemClock, timeoutMs: cfg.modem.timeoutMs });
  const ports = openSerialParts({ gps, modem, board, log, silentAfterMs, modemTimeoutMs: cfg.modem.timeoutMs });
  const io = await openSensors(board, log);
  const sensors = 'sensors' in io ? io.sensors : undefined;
  const parts = {
    io: sensors ? 'ok' : board.io === undefined ? 'absent' : 'failed',
    camera: board.camera ? 'ok' : 'absent',
  } as const;

  const outbox = Outbox.open(join(dataDir, 'outbox.db'), { quotaBytes: cfg.outbox.quotaBytes });
  const bulk = BulkStore.open(join(dataDir, 'bulk.db'), { quotaBytes: cfg.bulk.quotaBytes, now: () => clock.now() });
  logSchema(log, 'outbox.db', outbox.schema);
  logSchema(log, 'bulk.db', bulk.schema);
  const bulkSender = new BulkSender({
    unitId: cfg.unitId,
    store: bulk,
    clock,
    log: log.child({ module: 'bulk' }),
    alarmWaitMs: cfg.bulk.alarmWaitMs,
    liveMaxAgeMs: cfg.bulk.liveMaxAgeMs,
    ackTimeoutMs: cfg.bulk.ackTimeoutS * 1000,
  });
  let agent: Agent | undefined;
  let ota: OtaService | undefined;
  const config = new ConfigStore(cfg, join(dataDir, 'config-overrides.json'), (keys) => {
    log.info({ keys }, 'live configuration applied');
    if (keys.some((k) => k.startsWith('site.'))) agent?.reconfigure(alarmConfig());
  });
  /**
   * The geofence centre is the deployment site: the registry's (pushed with config-set when the unit
   * is claimed or its site changes) or the config file's; never the simulator's own position. No
   * site, no geofence.
   */
  const alarmConfig = () => {
    const lat = config.value('site.lat');
    const lon = config.value('site.lon');
    const radiusM = num('site.radiusM', cfg.site.radiusM);
    return typeof lat === 'number' && typeof lon === 'number'
      ? { ...DEFAULT_ALARM_CONFIG, site: { lat, lon, radiusM } }
      : { ...DEFAULT_ALARM_CONFIG };
  };
  const num = (k: string, d: number) => {
    const v = config.value(k);
    return typeof v === 'number' ? v : d;
  };

  const uplink = new Uplink({
    unitId: cfg.unitId,
    url: board.mqttUrl,
    password: cfg.mqtt.password,
    keepaliveS: cfg.mqtt.keepaliveS,
    clock,
    outbox,
    log: log.child({ module: 'uplink' }),
    policy: () =>
      linkPolicy({
        link: agent?.linkType ?? (board.modemProfile === 'satellite' ? 'satellite' : 'lte'),
        powerState: agent?.powerState ?? 'full',
        satelliteBudgetBytes: num('outbox.satelliteBudgetBytes', cfg.outbox.satelliteBudgetBytes),
        compactOnCellular: config.value('report.compactOnCellular') !== false,
      }),
    presence: () => {
      // Exiting into another slot: the promise is the update's, not the rung's sleep.
      const restarting = ota?.restarting;
      const extra = restarting ? { nextContactBy: restarting.by, restarting } : (agent?.presenceExtra() ?? {});
      return { agent: AGENT_VERSION, board: board.boardId, parts, ...extra };
    },
    connect: connectMqtt,
    bulk: bulkSender,
  });

  // Video: the ladder from the rung, the link and this month's bytes against the SIM plan.
  // Before the first link reading (and between links) the modem's profile says what the link will be.
  const linkType = (): LinkType => {
    const now = agent?.linkType;
    return now && now !== 'none' ? now : board.modemProfile === 'satellite' ? 'satellite' : 'lte';
  };
  const plan = () =>
    videoPlan({
      powerState: agent?.powerState ?? 'full',
      link: linkType(),
      now: clock.now(),
      bytesMonth: uplink.bytesMonth(),
      planBytes: num('video.planBytes', cfg.video.planBytes),
    });
  const videoSource =
    cfg.video.source === 'rtsp' && cfg.video.rtspUrl
      ? ({ kind: 'rtsp', url: cfg.video.rtspUrl, encoder: board.camera?.encoder ?? 'libx264' } as const)
      : board.camera
        ? ({ kind: 'camera', camera: board.camera } as const)
        : undefined;
  const video =
    videoSource && cfg.video.enabled
      ? new VideoControl({
          unitId: cfg.unitId,
          dir: join(dataDir, 'video'),
          source: videoSource,
          speaker: board.speaker,
          // A file the lane accepts goes up at the next drain: start one.
          sink: {
            enqueueFile: async (path, options) => {
              const r = await bulk.enqueueFile(path, options);
              uplink.kick();
              return r;
            },
          },
          // Its status and evidence messages go at once, not with the next status report.
          outbox: {
            enqueue: ((kind, payload) => {
              const row = outbox.enqueue(kind, payload);
              uplink.kick();
              return row;
            }) as Outbox['enqueue'],
          },
          clock,
          log: log.child({ module: 'video' }),
          ringQuotaBytes: cfg.video.ringQuotaBytes,
          segmentS: cfg.video.segmentS,
          preRollS: cfg.video.preRollS,
          postRollS: cfg.video.postRollS,
          stockDir: cfg.video.stockDir ?? join(dataDir, 'stock'),
          plan,
          backlog: () => ({ bytes: bulk.backlogBytes(), pinned: bulk.list().filter((i) => i.pinned).length }),
          situation: () => ({ powerState: agent?.powerState ?? 'full', link: linkType() }),
          liveLink: () => {
            const rate = bulkSender.measuredRate();
            const oldest = bulk.oldestWaiting('live');
            return {
              linkKbps: rate === undefined ? undefined : (rate * 8) / 1000,
              // On the lane's clock, as its stale limit is.
              backlogMs: oldest === undefined ? 0 : clock.now() - oldest,
              staleDropped: bulk.dropped.get('stale-live'),
            };
          },
          linkClock: systemClock,
        })
      : undefined;

  // The camera check needs a camera, not the recorder: a unit with video off still commissions its camera.
  const stills =
    video?.snapshots ??
    (board.camera
      ? new Snapshots({
          dir: join(dataDir, 'video', 'stills'),
          input: board.camera.ffmpegInput,
          sink: bulk,
          log: log.child({ module: 'stills' }),
          latestSegment: () => undefined,
        })
      : undefined);

  const readLinkStatus = async () => ({ ...(await readLink(modem, board.modemProfile)), ports: ports.health() });

  const monitors = () => sensors?.monitors.readAll() ?? Promise.resolve({});
  const sunDeg = () => {
    const f = gps.current();
    return f && f.fix !== 'none' ? sunElevationDeg(clock.now(), f.lat, f.lon) : undefined;
  };
  const recheck = new DaylightRecheck({
    file: join(dataDir, 'commission.json'),
    clock,
    log: log.child({ module: 'commission' }),
    sunDeg,
    monitors,
    report: (item, reason) => {
      outbox.enqueue('event', { ts: clock.now(), kind: 'commission', to: item.pass ? 'pass' : 'fail', reason, item });
      uplink.kick();
    },
  });
  const commission = async () => {
    const items = await runCommissioning({
      link: readLinkStatus,
      gpsPort: () => ports.gpsDiagnosis(),
      monitors,
      ...('problem' in io ? { monitorsMissing: io.problem } : {}),
      soc: () => agent?.soc,
      sunDeg,
      ...(stills ? { snapshot: () => stills.check(clock.now(), FULL_SNAPSHOT) } : {}),
      testUpload: async () => {
        const t0 = Date.now();
        const ev = outbox.enqueue('event', { ts: clock.now(), kind: 'commission', reason: 'test upload' });
        await uplink.delivered(ev.seq);
        return Date.now() - t0;
      },
    });
    const failed = items.filter(commissionFailed).map((i) => i.check);
    const pending = items.filter((i) => i.pending).map((i) => i.check);
    log.info({ module: 'commission', items }, failed.length === 0 ? 'commissioning passed' : 'commissioning found problems');
    const later = pending.length > 0 ? `to judge in daylight: ${pending.join(', ')}` : '';
    const verdict = failed.length > 0 ? `failed: ${failed.join(', ')}${later && `; ${later}`}` : later || 'all checks passed';
    outbox.enqueue('event', {
      ts: clock.now(),
      kind: 'commission',
      to: failed.length === 0 ? 'pass' : 'fail',
      reason: verdict.slice(0, 200),
    });
    uplink.kick();
    recheck.afterRun(items, clock.now());
    return items;
  };

  const commands = new CommandHandler({
    config,
    log: log.child({ module: 'commands' }),
    now: () => clock.now(),
    uptimeS: () => (clock.now() - startedAt) / 1000,
    restart: hooks.restart,
    commission,
    ota: () => ota,
    ...(video ? { video } : {}),
    mediaAck: async (ack) => {
      const state = await bulk.applyAck(ack);
      if (ack.state === 'abandoned')
        log.warn(
          { module: 'bulk', recording: ack.recording, answer: state, dropped: bulk.dropped.get('abandoned'), restarted: bulk.restarted },
          state === 'sending'
            ? 'the fleet abandoned a partial upload: sending it again from 0'
            : state === 'done'
              ? 'the fleet abandoned a partial upload: dropped, not held whole'
              : 'the fleet abandoned a partial upload the unit no longer holds',
        );
      uplink.kick();
      return state;
    },
  });

  agent = new Agent({
    unitId: cfg.unitId,
    clock,
    log: log.child({ module: 'agent' }),
    outbox,
    uplink,
    commands,
    sensors: sensors ?? { read: async () => undefined },
    gps,
    link: {
      read: readLinkStatus,
      setPower: (up) => setRadio(modem, board.modemProfile, up),
    },
    battery: board.battery,
    alarmConfig: alarmConfig(),
    stateFile: join(dataDir, 'state.json'),
    reportIntervalS: () => num('report.intervalS', cfg.report.intervalS),
    heartbeatS: () => num('report.heartbeatS', cfg.report.heartbeatS),
    telemetryBatch: cfg.report.telemetryBatch,
    siteClosed: () => config.value('site.closed') === true,
    ...(video ? { onAlarmRaised: (a) => video.alarm(a), onPlanChange: () => void video.apply() } : {}),
  });

  if (cfg.ota.slotsDir !== undefined) {
    // Loaded only on a unit that runs from slots: node:crypto, node:zlib and node:http cost several MB of RSS.
    const { OtaService } = await import('./ota-service.ts');
    const { readTrustedKeys } = await import('./ota-trust.ts');
    const trusted = readTrustedKeys(cfg.ota.trustedKeys);
    if (trusted.problem) log.warn({ module: 'ota', problem: trusted.problem }, 'no release will be trusted');
    const a = agent;
    const slotsDir = cfg.ota.slotsDir;
    // A unit whose slots folder is broken keeps doing its job; only updates are refused (SW_ERR_UNSUPPORTED).
    const open = () =>
      new OtaService({
        dataDir,
        slotsDir,
        trusted: trusted.keys,
        board: board.boardId,
        version: AGENT_VERSION,
        clock,
        log: log.child({ module: 'ota' }),
        conditions: () => {
          const local = new Date(clock.now());
          return { soc: a.soc, link: a.linkType, powerState: a.powerState, localMinutes: local.getHours() * 60 + local.getMinutes() };
        },
        report: (status) => {
          const row = outbox.enqueue('ota', status);
          uplink.kick();
          return row.seq;
        },
        health: {
          delivered: (seq) => uplink.delivered(seq),
          fix: () => {
            const f = gps.current();
            return f !== undefined && f.fix !== 'none';
          },
          ...(stills ? { frame: async () => void (await stills.check(clock.now(), FULL_SNAPSHOT)) } : {}),
        },
        // Without a supervisor's exit hook (a test harness in one process) the agent restarts in place.
        exit: hooks.exit ?? (() => hooks.restart('restart')),
        maxBoots: cfg.ota.maxBoots,
        healthDeadlineMs: cfg.ota.healthDeadlineS * 1000,
        retryMs: cfg.ota.retryS * 1000,
        ...(cfg.mode === 'sim' && cfg.ota.simPowerCutAt
          ? { cut: simPowerCut(cfg.ota.simPowerCutAt, join(dataDir, 'ota', 'power-cut-done')) }
          : {}),
      });
    try {
      ota = open();
    } catch (err) {
      log.error({ module: 'ota', err, slotsDir }, 'slots unreadable: updates refused');
    }
  }

  const scheduler = new Scheduler(clock, log.child({ module: 'scheduler' }));
  scheduler.set({
    name: 'maintenance',
    pattern: cfg.schedule.maintenance,
    run: () => {
      const r = outbox.downsample();
      if (r.dropped > 0) log.warn({ ...r, backlogBytes: outbox.backlogBytes() }, 'backlog over quota: thinned');
    },
  });
  scheduler.set({
    name: 'snapshots',
    pattern: cfg.schedule.snapshots,
    run: (at) => {
      // The ladder says whether stills go on a schedule (the full rung, a month with room for them).
      const taken = video?.scheduledSnapshot(at) ?? false;
      log.info({ module: 'camera', why: 'schedule', at, taken }, 'snapshot schedule');
    },
  });
  scheduler.start();
  recheck.start();

  uplink.start();
  agent.start();
  ota?.start();
  video?.start().catch((err: unknown) => log.error({ module: 'video', err }, 'video could not start'));

  return {
    agent,
    uplink,
    outbox,
    bulk,
    video,
    gps,
    modem,
    sensors,
    ports,
    commands,
    recheck,
    async close() {
      recheck.stop();
      scheduler.stop();
      await ota?.stop();
      await video?.close();
      await agent.stop();
      await uplink.close();
      await ports.stop();
      modem.close();
      gps.detach();
      outbox.close();
      bulk.close();
    },
  };
}
