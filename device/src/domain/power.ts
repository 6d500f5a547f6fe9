import { POWER_STATES, type PowerState } from '@shouwang/protocol';

/**
 * The power manager's arithmetic, pure. Energy counting from the monitors' net power gives the
 * state of charge; the cold shrinks what the battery can deliver (LiFePO4 keeps ~70 % at −20 °C);
 * a harvest trend over days says how long the unit lasts; and a ladder of power states with
 * hysteresis says what the unit may spend. Every subsystem reads its limits from `RUNG_LIMITS`.
 */
export interface BatterySpec {
  /** Nameplate energy at 25 °C, Wh. */
  capacityWh: number;
  /** Pack internal resistance, Ω: corrects terminal voltage to open-circuit voltage under load. */
  resistanceOhm: number;
  /** Open-circuit voltage → SoC table for the first estimate (ascending voltage). */
  ocv: readonly (readonly [volts: number, socPct: number])[];
}

/** LiFePO4 4S (12.8 V nominal) resting voltages; flat in the middle, so used only to start from. */
export const LIFEPO4_4S: BatterySpec = {
  capacityWh: 640,
  resistanceOhm: 0.048,
  ocv: [
    [10.0, 0],
    [12.0, 9],
    [12.8, 20],
    [13.0, 40],
    [13.1, 60],
    [13.2, 80],
    [13.4, 95],
    [13.6, 100],
  ],
};

/** Usable fraction of nameplate capacity by cell temperature (LiFePO4 discharge curves: ~70 % at −20 °C). */
const COLD_DERATING: readonly (readonly [tempC: number, factor: number])[] = [
  [-40, 0.5],
  [-30, 0.6],
  [-20, 0.7],
  [-10, 0.8],
  [0, 0.9],
  [25, 1.0],
];

export function coldDerating(tempC: number): number {
  return interpolate(COLD_DERATING, tempC);
}

export function socFromOcv(spec: BatterySpec, volts: number): number {
  return interpolate(spec.ocv, volts);
}

export interface PowerSample {
  ts: number;
  batteryV: number;
  batteryTempC: number;
  /** Into the battery (+) or out of it (−), W, from the battery's own monitor. */
  batteryW: number;
  solarW: number;
  windW: number;
  loadW: number;
}

export interface PowerEstimate {
  soc: number;
  remainingWh: number;
  usableWh: number;
  netW: number;
  timeToEmptyH?: number;
  autonomyD: number;
  /** Harvest over the last full days, Wh/day (trend: exponentially weighted). */
  harvestWhPerDay: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const OCV_TOLERANCE_V = 0.05;
/**
 * A pack at rest: current under C/50 (in power terms, 12.8 W for 640 Wh: the unit's own standby draw
 * counts, as a fuel gauge's quit current sits above the system's standby) for 10 minutes, seen by
 * samples at most 20 minutes apart (deep sleep samples every 15). At that current the IR-corrected
 * terminal voltage is the open-circuit voltage once the polarisation has relaxed.
 */
const REST_C_RATE = 1 / 50;
const REST_MS = 10 * 60_000;
const REST_MAX_GAP_MS = 20 * 60_000;

/**
 * State-of-charge estimator. It starts from the resting voltage (which says how full the pack is
 * relative to what it can deliver at its present temperature), then counts the energy the battery
 * monitor sees going in and out: that is what the charge controller actually lets in, heater and
 * below-0 °C charge blocking included, so no charging rule is guessed here. SoC is shown against
 * the *derated* capacity: the cold shrinks what can be drawn, so a cold pack empties sooner.
 */
export class PowerEstimator {
  private readonly spec: BatterySpec;
  private storedWh: number | undefined;
  private lastTs: number | undefined;
  /** Since when the pack has been at rest, ms; undefined under load. */
  private restSince: number | undefined;
  private dayStart: number | undefined;
  private harvestToday = 0;
  private loadToday = 0;
  private harvestTrend: number | undefined;
  private loadTrend: number | undefined;

  constructor(spec: BatterySpec) {
    this.spec = spec;
  }

  update(s: PowerSample): PowerEstimate {
    const usableWh = this.spec.capacityWh * coldDerating(s.batteryTempC);
    if (this.storedWh === undefined || this.lastTs === undefined) {
      this.storedWh = (socFromOcv(this.spec, s.batteryV) / 100) * usableWh;
      this.lastTs = s.ts;
      this.dayStart = s.ts - (s.ts % DAY_MS);
    }
    const dtMs = Math.max(0, s.ts - this.lastTs);
    const dtH = dtMs / HOUR_MS;
    this.lastTs = s.ts;
    const harvestW = s.solarW + s.windW;
    this.storedWh = clamp(this.storedWh + s.batteryW * dtH, 0, this.spec.capacityWh);
    this.storedWh = this.rested(s, dtMs)
      ? (socFromOcv(this.spec, this.ocv(s)) / 100) * usableWh
      : this.reanchor(this.storedWh, s, usableWh);
    this.rollDay(s.ts);
    this.harvestToday += harvestW * dtH;
    this.loadToday += s.loadW * dtH;

    // Charge beyond what the cold lets out is there but cannot be drawn until the pack warms.
    const remainingWh = Math.min(this.storedWh, usableWh);
    const est: PowerEstimate = {
      soc: clamp(round1((100 * remainingWh) / usableWh), 0, 100),
      remainingWh: round1(remainingWh),
      usableWh: round1(usableWh),
      netW: round1(s.batteryW),
      autonomyD: this.autonomy(remainingWh, s.batteryW),
      harvestWhPerDay: round1(this.harvestTrend ?? this.harvestToday),
    };
    if (s.batteryW < 0) est.timeToEmptyH = round1(Math.min(100_000, remainingWh / -s.batteryW));
    return est;
  }

  /**
   * Energy counting drifts (monitor offsets, self-discharge, a bad first reading). The IR-corrected
   * voltage bounds the SoC to an interval: ±50 mV of open-circuit voltage (temperature and
   * hysteresis effects) is a wide band in LiFePO4's flat middle and a narrow one at the steep ends.
   * A count outside that band is pulled towards it; inside, the count stands.
   */
  private reanchor(storedWh: number, s: PowerSample, usableWh: number): number {
    const ocvV = this.ocv(s);
    const lo = (socFromOcv(this.spec, ocvV - OCV_TOLERANCE_V) / 100) * usableWh;
    const hi = (socFromOcv(this.spec, ocvV + OCV_TOLERANCE_V) / 100) * usableWh;
    const target = Math.min(hi, Math.max(lo, storedWh));
    return storedWh + 0.3 * (target - storedWh);
  }

  /**
   * Rested long enough for the open-circuit voltage to be the charge, as a battery management
   * system re-anchors its count (in LiFePO4's flat middle the ±50 mV band leaves it 10 points off);
   * under load the count and its band stand.
   */
  private rested(s: PowerSample, dtMs: number): boolean {
    const still = Math.abs(s.batteryW) <= this.spec.capacityWh * REST_C_RATE && dtMs <= REST_MAX_GAP_MS;
    if (!still) this.restSince = undefined;
    else this.restSince ??= s.ts;
    return this.restSince !== undefined && s.ts - this.restSince >= REST_MS;
  }

  /** Terminal voltage corrected for the internal resistance's drop (or rise while charging). */
  private ocv(s: PowerSample): number {
    return s.batteryV - (s.batteryW / Math.max(1, s.batteryV)) * this.spec.resistanceOhm;
  }

  /** Days until empty: net daily deficit from the trends (or today's rates before a full day is seen). */
  private autonomy(remainingWh: number, netW: number): number {
    const deficitPerDay = this.harvestTrend !== undefined && this.loadTrend !== undefined ? this.loadTrend - this.harvestTrend : -netW * 24;
    if (deficitPerDay <= 0) return 10_000;
    return round1(Math.min(10_000, remainingWh / deficitPerDay));
  }

  private rollDay(ts: number): void {
    if (this.dayStart === undefined) return;
    while (ts - this.dayStart >= DAY_MS) {
      // α = 0.5: yesterday weighs as much as all the days before it; weather changes in days, not weeks.
      this.harvestTrend = this.harvestTrend === undefined ? this.harvestToday : 0.5 * this.harvestTrend + 0.5 * this.harvestToday;
      this.loadTrend = this.loadTrend === undefined ? this.loadToday : 0.5 * this.loadTrend + 0.5 * this.loadToday;
      this.harvestToday = 0;
      this.loadToday = 0;
      this.dayStart += DAY_MS;
    }
  }
}

/**
 * Ladder thresholds on derated SoC: step down to rung i+1 below `down[i]`, climb back to rung i
 * only at `up[i]` (10 points higher) and after `minDwellMs` on the current rung, so a cloud
 * or a gust does not make the modem and camera flap.
 */
export interface LadderConfig {
  down: readonly [number, number, number, number];
  up: readonly [number, number, number, number];
  /** Below this many days of autonomy, take one rung down even if SoC is fine (a dark week is coming). */
  minAutonomyD: number;
  minDwellMs: number;
}

export const DEFAULT_LADDER: LadderConfig = { down: [60, 40, 25, 10], up: [70, 50, 35, 20], minAutonomyD: 2, minDwellMs: 15 * 60_000 };

export interface LadderDecision {
  state: PowerState;
  changed: boolean;
  reason?: string;
}

export class PowerLadder {
  private readonly cfg: LadderConfig;
  private rung = 0;
  private since: number | undefined;

  constructor(cfg: LadderConfig = DEFAULT_LADDER, initial: PowerState = 'full') {
    this.cfg = cfg;
    this.rung = POWER_STATES.indexOf(initial);
  }

  get state(): PowerState {
    return POWER_STATES[this.rung] as PowerState;
  }

  decide(ts: number, est: Pick<PowerEstimate, 'soc' | 'autonomyD'>): LadderDecision {
    this.since ??= ts;
    const target = this.target(est);
    if (target === this.rung) return { state: this.state, changed: false };
    // Down at once (running out is the worse mistake); up only after dwelling.
    if (target < this.rung && ts - this.since < this.cfg.minDwellMs) return { state: this.state, changed: false };
    const from = this.state;
    const step = target > this.rung ? 1 : -1;
    this.rung += step;
    this.since = ts;
    const to = this.state;
    const i = step > 0 ? this.rung - 1 : this.rung;
    const reason =
      step > 0
        ? est.soc < (this.cfg.down[i] ?? 0)
          ? `soc ${est.soc}% below ${this.cfg.down[i]}%`
          : `autonomy ${est.autonomyD} d below ${this.cfg.minAutonomyD} d`
        : `soc ${est.soc}% at or above ${this.cfg.up[i]}%`;
    return { state: to, changed: true, reason: `${from} → ${to}: ${reason}` };
  }

  /** The rung SoC alone asks for, with hysteresis relative to where we are, plus the autonomy rule. */
  private target(est: Pick<PowerEstimate, 'soc' | 'autonomyD'>): number {
    let r = this.rung;
    while (r < 4 && est.soc < (this.cfg.down[r] ?? 0)) r++;
    while (r > 0 && r <= this.rung && est.soc >= (this.cfg.up[r - 1] ?? 101)) r--;
    if (r === 0 && est.autonomyD < this.cfg.minAutonomyD) r = 1;
    return r;
  }
}

/** What each rung allows. Subsystems read these; nothing else decides their duty. */
export interface RungLimits {
  /** Sensor sampling period. */
  sampleS: number;
  /** Status (power/location/link) report period. */
  reportS: number;
  /** One telemetry sample per this period (sampling for alarms and the estimate runs faster). */
  telemetryS: number;
  camera: 'continuous' | 'on-alarm' | 'off';
  /** Modem: always up, up only in windows (windowMin every windowEveryMin), or satellite/alarm only. */
  modem: 'always' | 'windows' | 'alarms-only';
  windowMin?: number;
  windowEveryMin?: number;
  /** Estimated load of the rung, W, for planning (Pi 4 + camera + LTE figures from stack-notes). */
  planW: number;
}

export const RUNG_LIMITS: Record<PowerState, RungLimits> = {
  full: { sampleS: 10, reportS: 60, telemetryS: 60, camera: 'continuous', modem: 'always', planW: 6.5 },
  'alarm-camera': { sampleS: 30, reportS: 300, telemetryS: 60, camera: 'on-alarm', modem: 'always', planW: 4.5 },
  'scheduled-modem': {
    sampleS: 60,
    reportS: 900,
    telemetryS: 300,
    camera: 'on-alarm',
    modem: 'windows',
    windowMin: 10,
    windowEveryMin: 60,
    planW: 3.2,
  },
  'satellite-digest': { sampleS: 300, reportS: 6 * 3600, telemetryS: 900, camera: 'off', modem: 'alarms-only', planW: 1.2 },
  'deep-sleep': { sampleS: 900, reportS: 24 * 3600, telemetryS: 3600, camera: 'off', modem: 'alarms-only', planW: 0.3 },
};

/** Is the modem allowed up at `ts` on this rung? Windows start on the hour (UTC), so the fleet knows when to expect a unit. */
export function modemUp(limits: RungLimits, ts: number): boolean {
  if (limits.modem !== 'windows') return limits.modem === 'always';
  const every = (limits.windowEveryMin ?? 60) * 60_000;
  return ts % every < (limits.windowMin ?? 10) * 60_000;
}

/** When the fleet should next hear from a unit on this rung (for presence `nextContactBy`). */
export function nextContactBy(limits: RungLimits, ts: number): number {
  if (limits.modem === 'windows') {
    const every = (limits.windowEveryMin ?? 60) * 60_000;
    return ts - (ts % every) + every + (limits.windowMin ?? 10) * 60_000;
  }
  return ts + 2 * limits.reportS * 1000;
}

function interpolate(table: readonly (readonly [number, number])[], x: number): number {
  const first = table[0];
  const last = table[table.length - 1];
  if (!first || !last) return 0;
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  for (let i = 1; i < table.length; i++) {
    const a = table[i - 1] as readonly [number, number];
    const b = table[i] as readonly [number, number];
    if (x <= b[0]) return a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0]);
  }
  return last[1];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
