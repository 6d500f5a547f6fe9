import type { Clock } from '@shouwang/hardware';
import {
  type Digest,
  encodeUplink,
  type Link,
  type LinkType,
  type Location,
  POWER_STATES,
  type Power,
  type PowerState,
  topics,
} from '@shouwang/protocol';
import type { Logger } from 'pino';
import { type AlarmConfig, AlarmEngine, type AlarmSnapshot, DEFAULT_ALARM_CONFIG } from '../domain/alarms.ts';
import { buildDigest } from '../domain/digest.ts';
import {
  type BatterySpec,
  DEFAULT_LADDER,
  type LadderConfig,
  modemUp,
  nextContactBy,
  type PowerEstimate,
  PowerEstimator,
  PowerLadder,
  RUNG_LIMITS,
} from '../domain/power.ts';
import { digestSignificant, linkSignificant, locationSignificant, powerSignificant, shouldReport } from '../domain/significance.ts';
import { TelemetryBatcher } from '../domain/telemetry.ts';
import { SATELLITE_KINDS } from '../domain/upload-policy.ts';
import type { LinkReading } from '../drivers/link-reader.ts';
import type { GnssFix, NmeaReceiver } from '../drivers/nmea.ts';
import { readJsonFile, writeFileAtomic } from './atomic-file.ts';
import type { CommandHandler } from './commands.ts';
import type { Outbox } from './outbox.ts';
import type { Uplink } from './uplink.ts';

/**
 * The agent's decisions over time. One sampling loop (period from the current power rung) reads
 * the sensors, updates the power estimate and the ladder, evaluates alarms and batches
 * telemetry; one report loop enqueues the retained status (power, location, link). Everything
 * goes into the outbox first; the uplink drains it as the link and the rung allow.
 */
export interface SensorReading {
  batteryV: number;
  /** Into the battery (+) or out of it (−), W. */
  batteryW: number;
  batteryTempC: number;
  solarW: number;
  windW: number;
  loadW: number;
  tamper?: boolean;
  motion?: boolean;
  tiltDeg?: number;
  enclosureTempC?: number;
}

export interface SensorPort {
  read(): Promise<SensorReading | undefined>;
}

export interface LinkPort {
  read(): Promise<LinkReading>;
  /** Tell the modem to come up or power down (AT+CFUN) as the rung dictates. */
  setPower?(up: boolean): Promise<void>;
}

export interface AgentDeps {
  unitId: string;
  clock: Clock;
  log: Logger;
  outbox: Outbox;
  uplink: Uplink;
  commands: CommandHandler;
  sensors: SensorPort;
  gps: NmeaReceiver;
  link: LinkPort;
  battery: BatterySpec;
  ladder?: LadderConfig;
  alarmConfig?: AlarmConfig;
  /** Where open alarms are kept across restarts (atomic JSON). */
  stateFile: string;
  reportIntervalS: () => number;
  /** A status unchanged for this long is sent anyway (retained liveness for the fleet). */
  heartbeatS: () => number;
  telemetryBatch: number;
  siteClosed: () => boolean;
  /** Evidence for a raised alarm (a camera snapshot), if the rung lets the camera run. */
  onAlarmRaised?: (ts: number) => void;
}

/** One NMEA navigation epoch at the usual 1 Hz: its sentences arrive within it. */
const NMEA_EPOCH_MS = 1000;

interface SavedState {
  alarms?: AlarmSnapshot;
  powerState?: PowerState;
}

export class Agent {
  private readonly d: AgentDeps;
  private readonly log: Logger;
  private readonly estimator: PowerEstimator;
  private readonly ladder: PowerLadder;
  private readonly alarms: AlarmEngine;
  private readonly batcher: TelemetryBatcher;
  private sampleTimer: unknown;
  private radioTimer: unknown;
  private radioOn = true;
  private reportTimer: unknown;
  private firstFixTimer: unknown;
  private lastEstimate: PowerEstimate | undefined;
  private lastReading: SensorReading | undefined;
  private lastLink: LinkReading | undefined;
  private stopped = false;
  private locationReported = false;
  private lastSlot: number | undefined;
  private lastTick: number | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly sent: {
    power?: Omit<Power, 'seq'>;
    location?: Omit<Location, 'seq'>;
    link?: Omit<Link, 'seq'>;
    digest?: Omit<Digest, 'seq'>;
  } = {};

  constructor(deps: AgentDeps) {
    this.d = deps;
    this.log = deps.log;
    const saved = readJsonFile<SavedState>(deps.stateFile, {});
    const initial = saved.powerState && POWER_STATES.includes(saved.powerState) ? saved.powerState : 'full';
    this.estimator = new PowerEstimator(deps.battery);
    this.ladder = new PowerLadder(deps.ladder ?? DEFAULT_LADDER, initial);
    this.alarms = new AlarmEngine(deps.alarmConfig ?? DEFAULT_ALARM_CONFIG, saved.alarms ?? {});
    this.batcher = new TelemetryBatcher(deps.telemetryBatch);
  }

  get powerState(): PowerState {
    return this.ladder.state;
  }

  /** The latest state-of-charge estimate, % of derated capacity. */
  get soc(): number | undefined {
    return this.lastEstimate?.soc;
  }

  get linkType(): LinkType {
    return this.lastLink?.type ?? 'none';
  }

  start(): void {
    this.d.uplink.on('request', (command, payload) => {
      const r = this.d.commands.handle(command, payload);
      if (!r) return;
      Promise.resolve(r.response)
        .then((bytes) => this.d.uplink.publishDirect(topics.response(this.d.unitId, command), bytes))
        .catch((err: unknown) => this.log.warn({ err, command }, 'response not delivered'))
        .finally(() => r.after?.());
    });
    this.d.outbox.enqueue('event', { ts: this.d.clock.now(), kind: 'boot', to: this.ladder.state, reason: 'agent started' });
    // A receiver needs seconds to a first fix: report it as soon as it comes instead of a period later,
    // once the rest of its epoch is in (the GGA altitude and GSA mode that follow an RMC within the second).
    this.d.gps.once('fix', () => {
      this.firstFixTimer = this.d.clock.setTimeout(() => {
        if (this.locationReported || this.stopped) return;
        this.reportLocation(this.d.clock.now());
        this.d.uplink.kick();
      }, NMEA_EPOCH_MS);
    });
    this.track(this.sample().then(() => this.report()));
    this.radioTimer = this.d.clock.setInterval(() => this.updateRadio(), 60_000);
  }

  /**
   * The rung's modem duty: always up; up in the hourly window; or up only while an alarm (or, on the
   * lowest rungs, the compact status) waits to go. An alarm opens the radio on any rung.
   */
  private radioWanted(now: number): boolean {
    const lim = RUNG_LIMITS[this.ladder.state];
    if (lim.modem === 'always') return true;
    if (this.d.outbox.pending(['alarm']) > 0) return true;
    if (lim.modem === 'windows') return modemUp(lim, now);
    return this.d.outbox.pending(SATELLITE_KINDS) > 0;
  }

  private updateRadio(): void {
    if (this.stopped) return;
    const want = this.radioWanted(this.d.clock.now());
    if (want === this.radioOn) return;
    this.radioOn = want;
    this.log.info({ radio: want, state: this.ladder.state }, want ? 'modem up' : 'modem down to save power');
    void this.d.link.setPower?.(want).catch((err: unknown) => this.log.warn({ err }, 'modem power change failed'));
    void this.d.uplink.setAllowed(want);
  }

  /** Applies live configuration (alarm thresholds, report interval) without a restart. */
  reconfigure(alarmConfig: AlarmConfig): void {
    this.alarms.configure(alarmConfig);
  }

  /** Keeps the loops' in-flight steps so `stop` can wait for them before the outbox closes. */
  private track(p: Promise<void>): void {
    this.inflight.add(p);
    p.catch((err: unknown) => this.log.error({ err }, 'agent loop step failed')).finally(() => this.inflight.delete(p));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.inflight]);
    if (this.sampleTimer !== undefined) this.d.clock.clearTimeout(this.sampleTimer);
    if (this.reportTimer !== undefined) this.d.clock.clearTimeout(this.reportTimer);
    if (this.firstFixTimer !== undefined) this.d.clock.clearTimeout(this.firstFixTimer);
    if (this.radioTimer !== undefined) this.d.clock.clearInterval(this.radioTimer);
    const last = this.batcher.flush();
    if (last) this.d.outbox.enqueue('telemetry', last);
    this.saveState();
  }

  /** Presence fields that depend on the rung: when the fleet should next expect to hear from us. */
  presenceExtra(): { nextContactBy: number } {
    return { nextContactBy: nextContactBy(RUNG_LIMITS[this.ladder.state], this.d.clock.now()) };
  }

  /** The sampling loop ran within two of its periods (plus slack): the systemd watchdog's progress check. */
  healthy(): boolean {
    if (this.lastTick === undefined) return true;
    return this.d.clock.now() - this.lastTick < 2 * RUNG_LIMITS[this.ladder.state].sampleS * 1000 + 30_000;
  }

  private async sample(): Promise<void> {
    if (this.stopped) return;
    const ts = this.d.clock.now();
    this.lastTick = ts;
    const limits = RUNG_LIMITS[this.ladder.state];
    try {
      const r = await this.d.sensors.read();
      if (this.stopped) return;
      if (r) this.onReading(ts, r, limits.telemetryS * 1000);
    } catch (err) {
      // A sensor bus fault is counted by the driver; the loop itself must survive anything.
      this.log.warn({ err }, 'sampling failed');
    }
    if (this.stopped) return;
    this.sampleTimer = this.d.clock.setTimeout(() => this.track(this.sample()), RUNG_LIMITS[this.ladder.state].sampleS * 1000);
  }

  private onReading(ts: number, r: SensorReading, periodMs: number): void {
    this.lastReading = r;
    const est = this.estimator.update({ ts, ...r });
    this.lastEstimate = est;
    const decision = this.ladder.decide(ts, est);
    if (decision.changed) this.onPowerState(ts, decision.reason ?? '');
    const fix = this.d.gps.current();
    const alarmInputs = {
      ts,
      siteClosed: this.d.siteClosed(),
      soc: est.soc,
      ...(r.tamper === undefined ? {} : { tamper: r.tamper }),
      ...(r.motion === undefined ? {} : { motion: r.motion }),
      ...(r.tiltDeg === undefined ? {} : { tiltDeg: r.tiltDeg }),
      ...(r.enclosureTempC === undefined ? {} : { tempC: r.enclosureTempC }),
      ...(fix && fix.fix !== 'none' ? { lat: fix.lat, lon: fix.lon } : {}),
    };
    const changes = this.alarms.evaluate(alarmInputs);
    for (const c of changes) {
      this.log.warn({ alarm: c.id, kind: c.kind, state: c.state, value: c.value }, 'alarm');
      this.d.outbox.enqueue('alarm', c);
      if (c.state === 'raised' && RUNG_LIMITS[this.ladder.state].camera !== 'off') this.d.onAlarmRaised?.(ts);
    }
    if (changes.length > 0) this.updateRadio();
    if (changes.length > 0) this.saveState();
    // Telemetry on whole slots of its period, so a batch stays regular however the reads jitter.
    const slot = ts - (ts % periodMs);
    if (slot === this.lastSlot) {
      this.kickIf(changes.length > 0 || decision.changed);
      return;
    }
    this.lastSlot = slot;
    const batches = this.batcher.add(slot, periodMs, {
      soc_pct: est.soc,
      batt_cV: r.batteryV,
      batt_dC: r.batteryTempC,
      solar_dW: r.solarW,
      wind_dW: r.windW,
      load_dW: r.loadW,
    });
    for (const b of batches) this.d.outbox.enqueue('telemetry', b);
    this.kickIf(changes.length > 0 || batches.length > 0 || decision.changed);
  }

  private kickIf(something: boolean): void {
    if (something) this.d.uplink.kick();
  }

  private onPowerState(ts: number, reason: string): void {
    const to = this.ladder.state;
    const from = reason.split(' → ')[0] ?? '';
    this.log.info({ from, to, reason, soc: this.lastEstimate?.soc, autonomyD: this.lastEstimate?.autonomyD }, 'power state changed');
    this.d.outbox.enqueue('event', { ts, kind: 'power-state', from, to, reason: reason.slice(0, 200) });
    // A new rung changes the sampling period: close the batch so each batch keeps one period.
    const b = this.batcher.flush();
    if (b) this.d.outbox.enqueue('telemetry', b);
    this.saveState();
    void this.d.link
      .setPower?.(RUNG_LIMITS[to].modem !== 'alarms-only')
      .catch((err: unknown) => this.log.warn({ err }, 'modem power change failed'));
    // Re-arm the report loop at the new rung's cadence.
    if (this.reportTimer !== undefined) this.d.clock.clearTimeout(this.reportTimer);
    this.scheduleReport();
  }

  private async report(): Promise<void> {
    if (this.stopped) return;
    const ts = this.d.clock.now();
    try {
      this.lastLink = await this.d.link.read();
    } catch (err) {
      this.log.warn({ err }, 'link poll failed');
    }
    if (this.stopped) return;
    const power = this.powerStatus(ts);
    if (!this.statusAllowed()) {
      if (power) this.reportDigest(ts, power);
    } else {
      if (power && shouldReport(this.sent.power, power, powerSignificant, this.heartbeatMs())) {
        this.d.outbox.enqueue('power', power);
        this.sent.power = power;
      }
      this.reportLocation(ts);
      const link = this.linkStatus(ts);
      if (link && shouldReport(this.sent.link, link, linkSignificant, this.heartbeatMs())) {
        this.d.outbox.enqueue('link', link);
        this.sent.link = link;
      }
    }
    this.updateRadio();
    this.d.uplink.kick();
    this.scheduleReport();
  }

  private powerStatus(ts: number): Omit<Power, 'seq'> | undefined {
    const est = this.lastEstimate;
    const r = this.lastReading;
    if (!est || !r) return undefined;
    return {
      ts,
      soc: est.soc,
      batteryV: r.batteryV,
      solarW: r.solarW,
      windW: r.windW,
      loadW: r.loadW,
      state: this.ladder.state,
      batteryTempC: r.batteryTempC,
      autonomyD: Math.min(10_000, est.autonomyD),
      ...(est.timeToEmptyH === undefined ? {} : { timeToEmptyH: est.timeToEmptyH }),
    };
  }

  private linkStatus(ts: number): Omit<Link, 'seq'> | undefined {
    const l = this.lastLink;
    if (!l) return undefined;
    // What the modem did not say stays out: unknown is not −150 dBm, 0 bars or "not registered".
    return {
      ts,
      type: l.type,
      ...(l.rssiDbm === undefined ? {} : { rssiDbm: Math.max(-150, Math.min(0, l.rssiDbm)) }),
      ...(l.bars === undefined ? {} : { bars: l.bars }),
      ...(l.operator ? { operator: l.operator } : {}),
      bytesMonth: this.d.uplink.bytesMonth(),
      ...(l.registered === undefined ? {} : { registered: l.registered }),
      ...(l.ports ? { ports: l.ports } : {}),
    };
  }

  /** On the satellite diet the whole status travels as one digest, sized to one SBD message. */
  private reportDigest(ts: number, power: Omit<Power, 'seq'>): void {
    const { ts: _ts, ...powerFields } = power;
    const fix = this.d.gps.current();
    const link = this.linkStatus(ts);
    const digest = buildDigest(
      {
        ts,
        power: powerFields,
        ...(fix && fix.fix !== 'none' ? { location: { lat: fix.lat, lon: fix.lon, fix: fix.fix } } : {}),
        ...(link
          ? {
              link: {
                type: link.type,
                ...(link.rssiDbm === undefined ? {} : { rssiDbm: link.rssiDbm }),
                ...(link.bars === undefined ? {} : { bars: link.bars }),
                bytesMonth: link.bytesMonth ?? 0,
              },
            }
          : {}),
        nextContactBy: this.presenceExtra().nextContactBy,
      },
      this.alarms.open(),
      (d) => encodeUplink('digest', { seq: 0xffffffff, ...d }, 'compact').length,
    );
    if (!shouldReport(this.sent.digest, digest, digestSignificant, this.heartbeatMs())) return;
    this.d.outbox.enqueue('digest', digest);
    this.sent.digest = digest;
  }

  private reportLocation(ts: number): void {
    const fix: GnssFix | undefined = this.d.gps.current();
    // Nothing to say before the receiver's first position; after it, losing the fix is news.
    if ((!fix && !this.sent.location) || !this.statusAllowed()) return;
    this.locationReported = true;
    // Without a current fix the message carries no position: the last one is history, not where the unit is.
    const location: Omit<Location, 'seq'> =
      fix && fix.fix !== 'none'
        ? {
            ts,
            lat: fix.lat,
            lon: fix.lon,
            fix: fix.fix,
            ...(fix.altM === undefined ? {} : { altM: fix.altM }),
            ...(fix.speedMps === undefined ? {} : { speedMps: fix.speedMps }),
            ...(fix.sats === undefined ? {} : { sats: fix.sats }),
            ...(fix.hdop === undefined ? {} : { hdop: fix.hdop }),
          }
        : { ts, fix: 'none' };
    if (!shouldReport(this.sent.location, location, locationSignificant, this.heartbeatMs())) return;
    this.d.outbox.enqueue('location', location);
    this.sent.location = location;
  }

  private heartbeatMs(): number {
    return Math.max(this.d.heartbeatS(), this.d.reportIntervalS()) * 1000;
  }

  /** Separate status messages on cellular; on the satellite diet they give way to the digest. */
  private statusAllowed(): boolean {
    return this.linkType !== 'satellite' && RUNG_LIMITS[this.ladder.state].modem !== 'alarms-only';
  }

  private scheduleReport(): void {
    if (this.stopped) return;
    const state = this.ladder.state;
    const periodS = state === 'full' ? this.d.reportIntervalS() : Math.max(this.d.reportIntervalS(), RUNG_LIMITS[state].reportS);
    this.reportTimer = this.d.clock.setTimeout(() => this.track(this.report()), periodS * 1000);
  }

  private saveState(): void {
    try {
      writeFileAtomic(
        this.d.stateFile,
        JSON.stringify({ alarms: this.alarms.snapshot(), powerState: this.ladder.state } satisfies SavedState),
      );
    } catch (err) {
      this.log.error({ err }, 'state not saved');
    }
  }
}
