import type { Clock } from '@shouwang/hardware';
import { type LinkType, POWER_STATES, type PowerState, topics } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { type AlarmConfig, AlarmEngine, type AlarmSnapshot, DEFAULT_ALARM_CONFIG, sampleDelayMs } from '../domain/alarms.ts';
import {
  type BatterySpec,
  DEFAULT_LADDER,
  type LadderConfig,
  nextContactBy,
  type PowerEstimate,
  PowerEstimator,
  PowerLadder,
  RUNG_LIMITS,
} from '../domain/power.ts';
import { radioWanted } from '../domain/radio-duty.ts';
import type { RaisedAlarm } from '../domain/ring-evidence.ts';
import { TelemetryBatcher } from '../domain/telemetry.ts';
import { SATELLITE_KINDS } from '../domain/upload-policy.ts';
import type { LinkReading } from '../drivers/link-reader.ts';
import type { NmeaReceiver } from '../drivers/nmea.ts';
import type { CommandHandler } from './commands.ts';
import type { Outbox } from './outbox.ts';
import { Radio } from './radio.ts';
import { logStateFile, readStateFile, writeStateFile } from './state-file.ts';
import { StatusReporter } from './status-reporter.ts';
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
  /**
   * A raised alarm's evidence (its still and clip follow, as the video ladder allows); returns the
   * evidence chain head the alarm carries. Called before the alarm is queued, in the same tick.
   */
  onAlarmRaised?: (a: RaisedAlarm) => string | undefined;
  /** Something the video ladder reads changed (the rung); sampled at each reading as well. */
  onPlanChange?: () => void;
}

/** How long a closing radio waits for the last word's PUBACK before it goes down anyway, unit ms. */
const LAST_WORD_WAIT_MS = 30_000;
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
  private readonly radio: Radio;
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
  private readonly reporter: StatusReporter;

  constructor(deps: AgentDeps) {
    this.d = deps;
    this.log = deps.log;
    const read = readStateFile<SavedState>(deps.stateFile, {});
    logStateFile(this.log, deps.stateFile, read);
    const saved = read.value;
    const initial = saved.powerState && POWER_STATES.includes(saved.powerState) ? saved.powerState : 'full';
    this.estimator = new PowerEstimator(deps.battery);
    this.ladder = new PowerLadder(deps.ladder ?? DEFAULT_LADDER, initial);
    this.alarms = new AlarmEngine(deps.alarmConfig ?? DEFAULT_ALARM_CONFIG, saved.alarms ?? {});
    this.batcher = new TelemetryBatcher(deps.telemetryBatch);
    this.reporter = new StatusReporter({
      outbox: deps.outbox,
      heartbeatMs: () => this.heartbeatMs(),
      source: {
        rung: () => this.ladder.state,
        estimate: () => this.lastEstimate,
        reading: () => this.lastReading,
        link: () => this.lastLink,
        fix: () => deps.gps.current(),
        openAlarms: () => this.alarms.open(),
        bytesMonth: () => deps.uplink.bytesMonth(),
        nextContactBy: () => this.presenceExtra().nextContactBy,
      },
    });
    this.radio = new Radio({
      clock: deps.clock,
      log: deps.log,
      uplink: deps.uplink,
      link: deps.link,
      wanted: () =>
        radioWanted(RUNG_LIMITS[this.ladder.state], deps.clock.now(), {
          alarms: deps.outbox.pending(['alarm']),
          satellite: deps.outbox.pending(SATELLITE_KINDS),
        }),
      lastWord: () => this.lastWord(deps.clock.now(), false),
      nextContactBy: () => this.presenceExtra().nextContactBy,
      lastWordWaitMs: LAST_WORD_WAIT_MS,
    });
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
        this.locationReported = this.reporter.reportLocation(this.d.clock.now());
        this.d.uplink.kick();
      }, NMEA_EPOCH_MS);
    });
    this.track(this.sample().then(() => this.report()));
    this.radioTimer = this.d.clock.setInterval(() => this.radio.update(), 60_000);
  }

  /** The last word (status-reporter.ts), which a closing radio waits for. */
  private lastWord(ts: number, force: boolean): void {
    const seq = this.reporter.lastWord(ts, force);
    if (seq !== undefined) this.radio.expect(seq);
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
    await Promise.allSettled([...this.inflight, this.radio.stop()]);
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
    const delayMs = sampleDelayMs(RUNG_LIMITS[this.ladder.state].sampleS * 1000, this.alarms.nextDue(), ts, this.d.clock.now());
    this.sampleTimer = this.d.clock.setTimeout(() => this.track(this.sample()), delayMs);
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
      const evidence = c.state === 'raised' ? this.d.onAlarmRaised?.(raised(c.id, ts, alarmInputs)) : undefined;
      this.d.outbox.enqueue('alarm', evidence ? { ...c, evidence } : c);
    }
    if (changes.length > 0) this.radio.update();
    this.d.onPlanChange?.();
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
    const soc = this.lastEstimate?.soc;
    this.log.info({ from, to, reason, soc, autonomyD: this.lastEstimate?.autonomyD }, 'power state changed');
    this.d.outbox.enqueue('event', {
      ts,
      kind: 'power-state',
      from,
      to,
      reason: reason.slice(0, 200),
      ...(soc === undefined ? {} : { soc }),
    });
    this.lastWord(ts, true);
    // A new rung changes the sampling period: close the batch so each batch keeps one period.
    const b = this.batcher.flush();
    if (b) this.d.outbox.enqueue('telemetry', b);
    this.saveState();
    // The new rung's modem duty, applied after the last word has gone (a closing radio waits for it).
    this.radio.update();
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
    this.reporter.report(ts);
    if (this.d.gps.current()) this.locationReported = true;
    this.radio.update();
    this.d.uplink.kick();
    this.scheduleReport();
  }

  private heartbeatMs(): number {
    return Math.max(this.d.heartbeatS(), this.d.reportIntervalS()) * 1000;
  }

  private scheduleReport(): void {
    if (this.stopped) return;
    const state = this.ladder.state;
    const periodS = state === 'full' ? this.d.reportIntervalS() : Math.max(this.d.reportIntervalS(), RUNG_LIMITS[state].reportS);
    this.reportTimer = this.d.clock.setTimeout(() => this.track(this.report()), periodS * 1000);
  }

  private saveState(): void {
    try {
      writeStateFile(this.d.stateFile, { alarms: this.alarms.snapshot(), powerState: this.ladder.state } satisfies SavedState);
    } catch (err) {
      this.log.error({ err }, 'state not saved');
    }
  }
}

/** What the evidence of an alarm starts from: where the unit was and what it read. */
function raised(
  id: string,
  ts: number,
  i: { soc: number; tamper?: boolean; motion?: boolean; tiltDeg?: number; tempC?: number; lat?: number; lon?: number },
): RaisedAlarm {
  const values: Record<string, number> = { soc: Math.round(i.soc * 10) / 10 };
  if (i.tamper !== undefined) values.tamper = i.tamper ? 1 : 0;
  if (i.motion !== undefined) values.motion = i.motion ? 1 : 0;
  if (i.tiltDeg !== undefined) values.tiltDeg = Math.round(i.tiltDeg * 10) / 10;
  if (i.tempC !== undefined) values.tempC = Math.round(i.tempC * 10) / 10;
  return { id, ts, values, ...(i.lat !== undefined && i.lon !== undefined ? { lat: i.lat, lon: i.lon } : {}) };
}
