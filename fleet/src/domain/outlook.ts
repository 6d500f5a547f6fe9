import { type Link, type Location, type Power, positionOf } from '@shouwang/protocol';

/**
 * Derived state: what the last readings mean for the next hours. Pure functions of readings and
 * `now`, so the same numbers come out of the API, the at-risk list and the tests.
 */

export interface SocSample {
  ts: number;
  soc: number;
}

const HOUR = 3_600_000;
/** Trend window: long enough to smooth battery noise, short enough to follow a sunset. */
const TREND_WINDOW_MS = 6 * HOUR;
const TREND_MIN_SPAN_MS = 10 * 60_000;
const MAX_SAMPLES = 64;

/** Inserts a reading in event-time order (back-filled readings land where they belong). */
export function addSample(samples: readonly SocSample[], s: SocSample): SocSample[] {
  if (samples.some((x) => x.ts === s.ts)) return samples as SocSample[];
  const next = [...samples, s].sort((a, b) => a.ts - b.ts);
  return next.length > MAX_SAMPLES ? next.slice(next.length - MAX_SAMPLES) : next;
}

/** Least-squares slope of state of charge over the trend window ending at the newest sample, %/h. */
export function socTrend(samples: readonly SocSample[]): number | null {
  const last = samples.at(-1);
  if (!last) return null;
  const window = samples.filter((s) => s.ts >= last.ts - TREND_WINDOW_MS);
  const first = window[0];
  if (!first || window.length < 2 || last.ts - first.ts < TREND_MIN_SPAN_MS) return null;
  const mx = window.reduce((a, s) => a + s.ts, 0) / window.length;
  const my = window.reduce((a, s) => a + s.soc, 0) / window.length;
  let num = 0;
  let den = 0;
  for (const s of window) {
    num += (s.ts - mx) * (s.soc - my);
    den += (s.ts - mx) ** 2;
  }
  return den === 0 ? null : (num / den) * HOUR;
}

export interface PowerOutlook {
  /** Hours until empty counted from now; null while charging or when nothing says it drains. */
  timeToEmptyH: number | null;
  /** When the battery is expected to be empty, ms. */
  emptyAt: number | null;
  /** Days of autonomy left: the unit's own forecast (derated capacity, harvest trend) when it sends one. */
  autonomyD: number | null;
}

/**
 * The unit knows its derated capacity and harvest forecast, so its own `timeToEmptyH` wins;
 * otherwise the fleet extrapolates the state-of-charge trend.
 */
export function powerOutlook(power: Power | null, trendPctH: number | null, now: number): PowerOutlook {
  if (!power) return { timeToEmptyH: null, emptyAt: null, autonomyD: null };
  const fromReading = power.timeToEmptyH ?? (trendPctH !== null && trendPctH < 0 ? power.soc / -trendPctH : null);
  if (fromReading === null) return { timeToEmptyH: null, emptyAt: null, autonomyD: power.autonomyD ?? null };
  const emptyAt = power.ts + fromReading * HOUR;
  const timeToEmptyH = Math.max(0, (emptyAt - Math.max(now, power.ts)) / HOUR);
  return { timeToEmptyH, emptyAt, autonomyD: power.autonomyD ?? timeToEmptyH / 24 };
}

export interface Point {
  lat: number;
  lon: number;
}

export interface LocationOutlook {
  /** Where the unit was deployed: the registry's site when known, else its first fix. */
  deployment: Point | null;
  distanceM: number | null;
  moving: boolean;
}

/** Ground speed at which a wheeled unit is considered under way, m/s (GNSS noise stays below). */
const MOVING_MPS = 0.5;
/** Displacement between consecutive fixes that counts as movement when speed is not reported, m. */
const MOVED_M = 25;

export function locationOutlook(loc: Location | null, previous: Location | null, deployment: Point | null): LocationOutlook {
  const at = loc ? positionOf(loc) : undefined;
  if (!loc || !at) return { deployment, distanceM: null, moving: false };
  const distanceM = deployment ? distanceMeters(deployment, at) : null;
  const was = previous ? positionOf(previous) : undefined;
  const moving = loc.speedMps !== undefined ? loc.speedMps >= MOVING_MPS : was !== undefined && distanceMeters(was, at) >= MOVED_M;
  return { deployment, distanceM, moving };
}

/** Great-circle distance (haversine, mean Earth radius 6,371,008.8 m per IUGG). */
export function distanceMeters(a: Point, b: Point): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface LinkOutlook {
  /** Bytes this month as the unit counts them (UTC calendar month). */
  bytesMonth: number | null;
  /** Bytes this month projected linearly to the month's end. */
  bytesMonthForecast: number | null;
  /** The unit's monthly data budget: set in the registry, or the default for its link type. */
  budgetBytes: number | null;
  /** Hours until the budget is spent at this month's rate; 0 when already spent, null when it lasts the month. */
  budgetHoursLeft: number | null;
}

/**
 * Default monthly budgets when the registry sets none. Cellular: the smallest common IoT SIM plan
 * (30 MB); a unit on defaults uses ~2.5 MB (device bench). Satellite: 30 days of the agent's default
 * daily SBD budget (6,800 B).
 */
export const DEFAULT_DATA_BUDGET = { cellular: 30_000_000, satellite: 30 * 6_800 } as const;

export function linkOutlook(link: Link | null, budgetBytes: number | null = null): LinkOutlook {
  const budget = budgetBytes ?? (link ? DEFAULT_DATA_BUDGET[link.type === 'satellite' ? 'satellite' : 'cellular'] : null);
  if (!link || link.bytesMonth === undefined)
    return { bytesMonth: null, bytesMonthForecast: null, budgetBytes: budget, budgetHoursLeft: null };
  const t = new Date(link.ts);
  const start = Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1);
  const end = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
  // Early in the month one day of data is a poor guide: count at least one day elapsed.
  const elapsed = Math.max(link.ts - start, 24 * HOUR);
  const forecast = Math.round((link.bytesMonth * (end - start)) / elapsed);
  let hoursLeft: number | null = null;
  if (budget !== null && forecast > budget) {
    const perMs = link.bytesMonth / elapsed;
    hoursLeft = Math.max(0, (budget - link.bytesMonth) / perMs / HOUR);
  }
  return { bytesMonth: link.bytesMonth, bytesMonthForecast: forecast, budgetBytes: budget, budgetHoursLeft: hoursLeft };
}
