/**
 * The weather and the sky over a unit: sun elevation (`../sky.ts`), irradiance through the air
 * mass (Meinel's clear-sky model), cloud and wind as slow seeded random walks, temperature with a
 * day cycle. Deterministic for a seed.
 */
import { sunElevationDeg } from '../sky.ts';

export interface Scenario {
  name: string;
  /** Mean air temperature, °C, and half the day–night swing. */
  meanTempC: number;
  swingC: number;
  /** Mean wind at the rotor's hub (~1.5 m above ground on the cube, not the 10 m of weather stations), m/s, and its spread. */
  meanWindMps: number;
  windSdMps: number;
  /** Mean cloud cover 0–1. */
  meanCloud: number;
  /** Share of light lost on the panel to snow, frost and dust. */
  panelSoiling: number;
}

export const SCENARIOS = {
  /**
   * December on the Songhua: −30 °C nights, −14 °C afternoons, under 9 h of low sun, frequent
   * overcast. Harbin's winter is its calm season (~2.5–3 m/s at 10 m); the log wind profile
   * (z0 ≈ 0.1 m) leaves about 0.6 of that at 1.5 m.
   */
  'harbin-winter': {
    name: 'harbin-winter',
    meanTempC: -22,
    swingC: 8,
    meanWindMps: 1.8,
    windSdMps: 1.2,
    meanCloud: 0.45,
    panelSoiling: 0.2,
  },
  /** Spring and summer are Harbin's windy seasons. */
  'harbin-summer': {
    name: 'harbin-summer',
    meanTempC: 23,
    swingC: 6,
    meanWindMps: 2.6,
    windSdMps: 1.5,
    meanCloud: 0.35,
    panelSoiling: 0.05,
  },
  temperate: { name: 'temperate', meanTempC: 12, swingC: 5, meanWindMps: 3.0, windSdMps: 1.8, meanCloud: 0.5, panelSoiling: 0.05 },
} as const satisfies Record<string, Scenario>;
export type ScenarioName = keyof typeof SCENARIOS;

export interface Weather {
  sunElevationDeg: number;
  /** Global horizontal irradiance reaching the panel's cells (after cloud and soiling), W/m². */
  irradiance: number;
  cloud: number;
  windMps: number;
  tempC: number;
}

const RAD = Math.PI / 180;

/** Clear-sky global horizontal irradiance: 1353 W/m² × 0.7^(AM^0.678) × sin(elevation). */
export function clearSkyIrradiance(elevationDeg: number): number {
  if (elevationDeg <= 0) return 0;
  const airMass = 1 / (Math.sin(elevationDeg * RAD) + 0.50572 * (elevationDeg + 6.07995) ** -1.6364);
  return 1353 * 0.7 ** (airMass ** 0.678) * Math.sin(elevationDeg * RAD);
}

/** mulberry32: small, fast, seedable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Environment {
  readonly scenario: Scenario;
  readonly #lat: number;
  readonly #lon: number;
  readonly #rand: () => number;
  #cloud: number;
  #wind: number;
  #last: number | undefined;
  #tempOffsetC = 0;

  constructor(scenario: Scenario, site: { lat: number; lon: number }, seed: number) {
    this.scenario = scenario;
    this.#lat = site.lat;
    this.#lon = site.lon;
    this.#rand = rng(seed);
    this.#cloud = scenario.meanCloud;
    this.#wind = scenario.meanWindMps;
  }

  /** Weather at time t (ms); advancing time walks cloud and wind (Ornstein–Uhlenbeck, ~3 h memory). */
  at(t: number): Weather {
    const dtH = this.#last === undefined ? 0 : Math.max(0, (t - this.#last) / 3_600_000);
    this.#last = t;
    if (dtH > 0) {
      const keep = Math.exp(-dtH / 3);
      const noise = Math.sqrt(1 - keep * keep);
      this.#cloud = clamp(this.scenario.meanCloud + (this.#cloud - this.scenario.meanCloud) * keep + noise * 0.35 * this.#gauss(), 0, 1);
      this.#wind = Math.max(
        0,
        this.scenario.meanWindMps + (this.#wind - this.scenario.meanWindMps) * keep + noise * this.scenario.windSdMps * this.#gauss(),
      );
    }
    const elevation = sunElevationDeg(t, this.#lat, this.#lon);
    const tempC = this.#dayCycleC(t) + this.#tempOffsetC;
    return {
      sunElevationDeg: elevation,
      irradiance: clearSkyIrradiance(elevation) * (1 - 0.75 * this.#cloud) * (1 - this.scenario.panelSoiling),
      cloud: this.#cloud,
      windMps: this.#wind,
      tempC,
    };
  }

  /** Forces cloud and wind (which then walk on from there) and shifts the temperature so it reads `tempC` at `t`. */
  setWeather(w: { cloud?: number; windMps?: number; tempC?: number }, t: number): void {
    if (w.cloud !== undefined) this.#cloud = clamp(w.cloud, 0, 1);
    if (w.windMps !== undefined) this.#wind = Math.max(0, w.windMps);
    if (w.tempC !== undefined) this.#tempOffsetC = w.tempC - this.#dayCycleC(t);
  }

  /** Coldest near dawn (~06:00 local solar time), warmest mid-afternoon. */
  #dayCycleC(t: number): number {
    const d = new Date(t);
    const localHours = (d.getUTCHours() + d.getUTCMinutes() / 60 + this.#lon / 15 + 24) % 24;
    return this.scenario.meanTempC + this.scenario.swingC * Math.sin(((localHours - 9) / 24) * 2 * Math.PI);
  }

  #gauss(): number {
    const u = Math.max(1e-12, this.#rand());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#rand());
  }
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
