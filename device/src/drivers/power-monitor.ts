import type { Clock } from '@shouwang/hardware';
import { Counters } from './counters.ts';

/**
 * Power monitors on the I²C bus, read through a johnny-five Board (which forwards to the board's
 * IO plugin). TI INA219 and INA226 (datasheets SBOS448, SBOS547): the registers do not
 * auto-increment, so shunt and bus voltage are two reads. Current is shunt voltage / shunt
 * resistance, which needs no calibration register and so reads the same on a chip that lost its
 * configuration in a brown-out.
 */
export type MonitorChip = 'ina219' | 'ina226';

export interface MonitorSpec {
  /** Channel name: solar, wind, battery, load. */
  name: string;
  chip: MonitorChip;
  address: number;
  shuntOhms: number;
}

export interface MonitorReading {
  busV: number;
  /** Signed: positive into the load side of the shunt (charging, for the battery channel). */
  currentA: number;
  powerW: number;
}

/** The part of johnny-five's Board (and of an IO plugin) this driver uses. */
export interface I2cBus {
  i2cConfig(options: unknown): unknown;
  i2cReadOnce(address: number, register: number, bytes: number, handler: (data: number[]) => void): unknown;
}

export type MonitorDropReason = 'short-read' | 'overflow' | 'timeout';

const REG_SHUNT = 0x01;
const REG_BUS = 0x02;
/** Shunt LSB: INA219 10 µV, INA226 2.5 µV. Bus LSB: INA219 4 mV in bits 15:3, INA226 1.25 mV. */
const LSB = { ina219: { shunt: 10e-6, bus: 4e-3 }, ina226: { shunt: 2.5e-6, bus: 1.25e-3 } } as const;

export function decodeShunt(chip: MonitorChip, bytes: readonly number[]): number {
  const raw = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
  const signed = raw & 0x8000 ? raw - 0x10000 : raw;
  return signed * LSB[chip].shunt;
}

/** Bus voltage in V, or undefined when the INA219 flags a math overflow (OVF, bit 0). */
export function decodeBus(chip: MonitorChip, bytes: readonly number[]): number | undefined {
  const raw = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
  if (chip === 'ina219') return raw & 0x1 ? undefined : (raw >> 3) * LSB.ina219.bus;
  return raw * LSB.ina226.bus;
}

export class PowerMonitors {
  readonly dropped = new Counters<MonitorDropReason>();
  private readonly bus: I2cBus;
  private readonly specs: readonly MonitorSpec[];
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(bus: I2cBus, specs: readonly MonitorSpec[], options: { clock: Clock; timeoutMs?: number }) {
    this.bus = bus;
    this.specs = specs;
    this.clock = options.clock;
    this.timeoutMs = options.timeoutMs ?? 1000;
    bus.i2cConfig({});
  }

  /** Reads every channel; a channel that fails is counted and left out, never thrown. */
  async readAll(): Promise<Record<string, MonitorReading>> {
    const out: Record<string, MonitorReading> = {};
    for (const spec of this.specs) {
      const r = await this.read(spec);
      if (r) out[spec.name] = r;
    }
    return out;
  }

  async read(spec: MonitorSpec): Promise<MonitorReading | undefined> {
    const shunt = await this.readRegister(spec.address, REG_SHUNT);
    const bus = await this.readRegister(spec.address, REG_BUS);
    if (!shunt || !bus) return undefined;
    const busV = decodeBus(spec.chip, bus);
    if (busV === undefined) {
      this.dropped.inc('overflow');
      return undefined;
    }
    const currentA = decodeShunt(spec.chip, shunt) / spec.shuntOhms;
    return { busV: round(busV, 3), currentA: round(currentA, 4), powerW: round(busV * currentA, 3) };
  }

  private readRegister(address: number, register: number): Promise<number[] | undefined> {
    return new Promise((resolve) => {
      let done = false;
      // An I²C device that does not answer (loose connector, frozen chip) must not hang the agent.
      const timer = this.clock.setTimeout(() => {
        if (done) return;
        done = true;
        this.dropped.inc('timeout');
        resolve(undefined);
      }, this.timeoutMs);
      this.bus.i2cReadOnce(address, register, 2, (data) => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        if (!Array.isArray(data) || data.length < 2) {
          this.dropped.inc('short-read');
          resolve(undefined);
          return;
        }
        resolve(data);
      });
    });
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
