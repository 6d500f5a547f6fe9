import { clamp, type Weather } from './environment.ts';

/**
 * The unit's energy: a ~50 W roof panel, a 0.5 m wind rotor, a LiFePO4 pack and what the board
 * draws. Integrated step by step over simulated time.
 */
export interface PowerSpec {
  panelPeakW: number;
  /** Rotor diameter m, power coefficient, cut-in and rated cap. */
  rotor: { diameterM: number; cp: number; cutInMps: number; ratedW: number };
  battery: { cells: number; capacityWh: number };
  /** Pad heater that must warm the pack before it may charge below 0 °C; it runs from harvest only. */
  heaterW: number;
  /**
   * The pack as one thermal node in the insulated box: resistance to outside air (K/W) and heat
   * capacity (J/K). 6 kg of LiFePO4 at ~1 kJ/(kg·K) plus the box ≈ 8 kJ/K; 4 cm of foam ≈ 2.5 K/W.
   */
  thermal: { kPerW: number; jPerK: number };
}

export const DEFAULT_POWER: PowerSpec = {
  panelPeakW: 50,
  rotor: { diameterM: 0.5, cp: 0.3, cutInMps: 2.5, ratedW: 60 },
  battery: { cells: 4, capacityWh: 640 },
  heaterW: 8,
  thermal: { kPerW: 2.5, jPerK: 8000 },
};

/** Thermostat: the heater runs below this pack temperature (a margin above the 0 °C charge limit). */
const HEAT_BELOW_C = 3;

/** LiFePO4 resting voltage per cell by state of charge: flat in the middle, steep at the ends. */
const OCV_CELL: readonly [number, number][] = [
  [0, 2.5],
  [9, 3.0],
  [20, 3.2],
  [40, 3.25],
  [60, 3.275],
  [80, 3.3],
  [95, 3.35],
  [100, 3.4],
];

export function ocvPerCell(socPct: number): number {
  const s = clamp(socPct, 0, 100);
  for (let i = 1; i < OCV_CELL.length; i++) {
    const [s1, v1] = OCV_CELL[i] as [number, number];
    const [s0, v0] = OCV_CELL[i - 1] as [number, number];
    if (s <= s1) return v0 + ((v1 - v0) * (s - s0)) / (s1 - s0);
  }
  return 3.4;
}

/** Usable fraction of nameplate capacity at a temperature: 1.0 at ≥ 20 °C, ~0.7 at −20 °C. */
export function capacityFactor(tempC: number): number {
  return clamp(0.85 + 0.0075 * tempC, 0.5, 1);
}

/** Air density from temperature at sea-level pressure: ρ = p / (R·T); 1.45 kg/m³ at −30 °C. */
export function airDensity(tempC: number): number {
  return 101_325 / (287.05 * (tempC + 273.15));
}

export function turbineW(spec: PowerSpec['rotor'], windMps: number, tempC: number): number {
  if (windMps < spec.cutInMps) return 0;
  const area = Math.PI * (spec.diameterM / 2) ** 2;
  return Math.min(spec.ratedW, 0.5 * airDensity(tempC) * area * windMps ** 3 * spec.cp);
}

/** Panel DC output after a charge-controller and soiling derate of 0.85. */
export function panelW(peakW: number, irradiance: number): number {
  return (peakW * irradiance * 0.85) / 1000;
}

export interface PowerTruth {
  solarW: number;
  windW: number;
  loadW: number;
  heaterW: number;
  /** Into the battery (+) or out of it (−), W. */
  batteryW: number;
  batteryV: number;
  batteryTempC: number;
  /** Stored energy as % of the temperature-derated capacity. */
  soc: number;
  storedWh: number;
}

export class PowerModel {
  readonly spec: PowerSpec;
  #storedWh: number;
  #truth: PowerTruth;
  #packTempC: number | undefined;

  constructor(spec: PowerSpec, initialSoc: number) {
    this.spec = spec;
    this.#storedWh = (spec.battery.capacityWh * initialSoc) / 100;
    this.#truth = this.#snapshot(0, 0, 0, 0, 0, 20);
  }

  get truth(): PowerTruth {
    return this.#truth;
  }

  setSoc(soc: number): void {
    this.#storedWh = (this.spec.battery.capacityWh * capacityFactor(this.#truth.batteryTempC) * clamp(soc, 0, 100)) / 100;
    this.#truth = { ...this.#truth, soc: clamp(soc, 0, 100), storedWh: this.#storedWh };
  }

  /**
   * Advances by dtS seconds of weather. `loadW` is everything the battery feeds; `insideW` the
   * part dissipated inside the box (board and modem, not the mast camera), which warms the pack.
   */
  step(dtS: number, w: Weather, loadW: number, insideW = loadW): PowerTruth {
    const { kPerW, jPerK } = this.spec.thermal;
    this.#packTempC ??= w.tempC + insideW * kPerW;
    const solar = panelW(this.spec.panelPeakW, w.irradiance);
    const wind = turbineW(this.spec.rotor, w.windMps, w.tempC);
    let surplus = solar + wind - loadW;
    let heater = 0;
    if (surplus > 0 && this.#packTempC < HEAT_BELOW_C) {
      heater = Math.min(this.spec.heaterW, surplus);
      surplus -= heater;
    }
    // LiFePO4 must not be charged below 0 °C (lithium plating): the controller curtails the rest.
    if (surplus > 0 && this.#packTempC < 0) surplus = 0;
    const usable = this.spec.battery.capacityWh * capacityFactor(this.#packTempC);
    const efficiency = surplus > 0 ? 0.95 : 1;
    // A full pack takes no more: the controller ends the charge (CV phase collapsed to a cut-off here).
    if (surplus > 0 && dtS > 0) surplus = Math.min(surplus, Math.max(0, ((usable - this.#storedWh) * 3600) / dtS / efficiency));
    this.#storedWh = clamp(this.#storedWh + (surplus * efficiency * dtS) / 3600, 0, this.spec.battery.capacityWh);
    // Exact first-order update toward the equilibrium, stable for any step length.
    const equilibrium = w.tempC + (insideW + heater) * kPerW;
    this.#packTempC = equilibrium + (this.#packTempC - equilibrium) * Math.exp(-dtS / (kPerW * jPerK));
    this.#truth = this.#snapshot(solar, wind, loadW, heater, surplus, this.#packTempC, usable);
    return this.#truth;
  }

  #snapshot(
    solar: number,
    wind: number,
    load: number,
    heater: number,
    batteryW: number,
    batteryTempC: number,
    usable = this.spec.battery.capacityWh,
  ): PowerTruth {
    const soc = clamp((this.#storedWh / usable) * 100, 0, 100);
    const cells = this.spec.battery.cells;
    const v = ocvPerCell(soc) * cells;
    const resistance = 0.012 * cells; // pack internal resistance, Ω
    return {
      solarW: solar,
      windW: wind,
      loadW: load,
      heaterW: heater,
      batteryW,
      batteryV: Math.max(0, v + (batteryW / v) * resistance),
      batteryTempC,
      soc,
      storedWh: this.#storedWh,
    };
  }
}
