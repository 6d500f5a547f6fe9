import type { Alarm, AlarmKind, Severity } from '@shouwang/protocol';

/**
 * On-unit alarm rules, pure. Each rule turns a reading into "condition holds / does not"; the
 * engine debounces (the condition must hold for `raiseAfterMs` to raise and be gone for
 * `clearAfterMs` to clear), deduplicates (one occurrence = one id from raise to clear, however
 * often the condition re-fires), and gives each occurrence a stable id derived from its kind and
 * raise time, which survives an agent restart through `snapshot`/`restore`.
 */
export interface AlarmInputs {
  ts: number;
  tamper?: boolean;
  /** Tilt from vertical, degrees (or 90 for a tripped tilt switch). */
  tiltDeg?: number;
  motion?: boolean;
  /** The site is closed (no one should be there): motion then means intrusion. */
  siteClosed: boolean;
  soc?: number;
  tempC?: number;
  lat?: number;
  lon?: number;
}

export interface AlarmConfig {
  tiltMaxDeg: number;
  lowSocPct: number;
  lowSocClearPct: number;
  overTempC: number;
  overTempClearC: number;
  site?: { lat: number; lon: number; radiusM: number };
}

export const DEFAULT_ALARM_CONFIG: AlarmConfig = { tiltMaxDeg: 30, lowSocPct: 15, lowSocClearPct: 20, overTempC: 70, overTempClearC: 65 };

export type AlarmChange = Omit<Alarm, 'seq'>;

interface Rule {
  kind: AlarmKind;
  severity: Severity;
  raiseAfterMs: number;
  clearAfterMs: number;
  /** true = condition holds, false = clearly gone, undefined = no reading (keep state). */
  check(i: AlarmInputs, cfg: AlarmConfig, active: boolean): { holds: boolean; value?: number } | undefined;
  message: string;
}

const RULES: readonly Rule[] = [
  {
    kind: 'tamper',
    severity: 'critical',
    raiseAfterMs: 0,
    clearAfterMs: 60_000,
    check: (i) => (i.tamper === undefined ? undefined : { holds: i.tamper }),
    message: 'enclosure opened',
  },
  {
    kind: 'tilt',
    severity: 'major',
    // A gust rocks the mast for a second; a unit pushed over stays over.
    raiseAfterMs: 5_000,
    clearAfterMs: 60_000,
    check: (i, c) => (i.tiltDeg === undefined ? undefined : { holds: i.tiltDeg > c.tiltMaxDeg, value: i.tiltDeg }),
    message: 'unit tilted',
  },
  {
    kind: 'motion',
    severity: 'major',
    raiseAfterMs: 2_000,
    clearAfterMs: 120_000,
    check: (i) => (i.motion === undefined ? undefined : { holds: i.motion && i.siteClosed }),
    message: 'motion at a closed site',
  },
  {
    kind: 'low-battery',
    severity: 'major',
    raiseAfterMs: 60_000,
    clearAfterMs: 10 * 60_000,
    check: (i, c, active) =>
      i.soc === undefined ? undefined : { holds: active ? i.soc < c.lowSocClearPct : i.soc < c.lowSocPct, value: i.soc },
    message: 'battery low',
  },
  {
    kind: 'over-temperature',
    severity: 'major',
    raiseAfterMs: 60_000,
    clearAfterMs: 5 * 60_000,
    check: (i, c, active) =>
      i.tempC === undefined ? undefined : { holds: active ? i.tempC > c.overTempClearC : i.tempC > c.overTempC, value: i.tempC },
    message: 'enclosure over temperature',
  },
  {
    kind: 'geofence',
    severity: 'critical',
    // GNSS multipath can jump a fix by tens of metres for a few seconds; a theft keeps going.
    raiseAfterMs: 30_000,
    clearAfterMs: 5 * 60_000,
    check: (i, c) => {
      if (!c.site || i.lat === undefined || i.lon === undefined) return undefined;
      const d = distanceM(c.site.lat, c.site.lon, i.lat, i.lon);
      return { holds: d > c.site.radiusM, value: Math.round(d) };
    },
    message: 'moved outside the deployment radius',
  },
];

interface RuleState {
  /** Since when the condition has held (raising) or been gone (clearing). */
  pendingSince?: number;
  activeId?: string;
  raisedAt?: number;
}

export type AlarmSnapshot = Record<string, { activeId: string; raisedAt: number }>;

export class AlarmEngine {
  private cfg: AlarmConfig;
  private readonly state = new Map<AlarmKind, RuleState>();

  constructor(cfg: AlarmConfig = DEFAULT_ALARM_CONFIG, snapshot: AlarmSnapshot = {}) {
    this.cfg = cfg;
    for (const [kind, s] of Object.entries(snapshot)) this.state.set(kind as AlarmKind, { activeId: s.activeId, raisedAt: s.raisedAt });
  }

  configure(cfg: AlarmConfig): void {
    this.cfg = cfg;
  }

  /** Feeds one set of readings; returns the raise/clear transitions it causes (usually none). */
  evaluate(i: AlarmInputs): AlarmChange[] {
    const out: AlarmChange[] = [];
    for (const rule of RULES) {
      const st = this.state.get(rule.kind) ?? {};
      this.state.set(rule.kind, st);
      const active = st.activeId !== undefined;
      const r = rule.check(i, this.cfg, active);
      if (!r) continue;
      if (r.holds === active) {
        st.pendingSince = undefined;
        continue;
      }
      st.pendingSince ??= i.ts;
      const wait = active ? rule.clearAfterMs : rule.raiseAfterMs;
      if (i.ts - st.pendingSince < wait) continue;
      const change: AlarmChange = {
        ts: i.ts,
        id: active ? (st.activeId as string) : alarmId(rule.kind, st.pendingSince),
        kind: rule.kind,
        severity: rule.severity,
        state: active ? 'cleared' : 'raised',
        message: rule.message,
      };
      if (r.value !== undefined) change.value = r.value;
      if (i.lat !== undefined && i.lon !== undefined) {
        change.lat = i.lat;
        change.lon = i.lon;
      }
      if (active) {
        st.activeId = undefined;
        st.raisedAt = undefined;
      } else {
        st.activeId = change.id;
        st.raisedAt = st.pendingSince;
      }
      st.pendingSince = undefined;
      out.push(change);
    }
    return out;
  }

  /**
   * When the earliest pending raise or clear has waited out its debounce, or undefined when none is
   * pending. The debounce is unit time, not a count of samples: a unit sampling every 5 or 15 minutes
   * on a low rung must look again then, or a 60 s debounce becomes a one-period delay.
   */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const rule of RULES) {
      const st = this.state.get(rule.kind);
      if (st?.pendingSince === undefined) continue;
      const at = st.pendingSince + (st.activeId === undefined ? rule.raiseAfterMs : rule.clearAfterMs);
      if (due === undefined || at < due) due = at;
    }
    return due;
  }

  /** Open alarms, for the satellite digest and for persistence. */
  open(): { id: string; kind: AlarmKind; severity: Severity; raisedAt: number }[] {
    const out: { id: string; kind: AlarmKind; severity: Severity; raisedAt: number }[] = [];
    for (const rule of RULES) {
      const s = this.state.get(rule.kind);
      if (s?.activeId && s.raisedAt !== undefined)
        out.push({ id: s.activeId, kind: rule.kind, severity: rule.severity, raisedAt: s.raisedAt });
    }
    return out;
  }

  snapshot(): AlarmSnapshot {
    return Object.fromEntries(this.open().map((a) => [a.kind, { activeId: a.id, raisedAt: a.raisedAt }]));
  }
}

/**
 * Delay to the next sample: the rung's period, or sooner when an alarm's debounce (`due`, from
 * `nextDue`) ends first — a reading is cheap, a late alarm is not. Only a debounce still running at
 * the last sample (`sampledAt`) pulls the next one in: one that ended without a reading to decide it
 * (a sensor gone silent) waits for the period, so it cannot spin the loop.
 */
export function sampleDelayMs(periodMs: number, due: number | undefined, sampledAt: number, now: number): number {
  if (due === undefined || due <= sampledAt) return periodMs;
  return Math.min(periodMs, Math.max(0, due - now));
}

/** `<kind>:<raise time in base-36 seconds>`: the same occurrence always has the same id. */
export function alarmId(kind: AlarmKind, raisedAt: number): string {
  return `${kind}:${Math.floor(raisedAt / 1000).toString(36)}`;
}

/** Great-circle distance (haversine, mean Earth radius 6371 km). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(a)));
}
