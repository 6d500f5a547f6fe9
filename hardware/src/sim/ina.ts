/**
 * Register files of the TI INA219 (datasheet SBOS448) and INA226 (SBOS547) current/power
 * monitors, as the chips present them on I²C: big-endian 16-bit registers addressed by a pointer
 * byte, no auto-increment.
 * - 0x00 configuration: power-on value 0x399F (INA219, SBOS448 §8.6.3.1) / 0x4127 (INA226, SBOS547 §7.6.1).
 * - 0x01 shunt voltage: signed, LSB 10 µV (INA219 at PGA /8, §8.6.3.2) / 2.5 µV (INA226, §7.6.2).
 * - 0x02 bus voltage: INA219 bits 15:3 at 4 mV, bit 1 CNVR (conversion ready), bit 0 OVF (math
 *   overflow) (§8.6.3.3); INA226 all 16 bits at 1.25 mV (§7.6.3).
 * - 0x03 power, 0x04 current: computed from the calibration register 0x05, which is 0 at power-on,
 *   so both read 0 until the host writes it (SBOS448 §8.5.1; SBOS547 §7.5.1):
 *   INA219 current = shunt × cal / 4096, power = current × bus / 5000;
 *   INA226 current = shunt × cal / 2048, power = current × bus / 20000.
 * - INA226 only: 0xFE manufacturer ID 0x5449 ("TI"), 0xFF die ID 0x2260 (§7.6.8–9).
 */
export type Chip = 'ina219' | 'ina226';

const SHUNT_LSB = { ina219: 10e-6, ina226: 2.5e-6 } as const;
const SHUNT_MAX = { ina219: 0.32, ina226: 0.08192 } as const;
const CONFIG_RESET = { ina219: 0x399f, ina226: 0x4127 } as const;

function word(v: number): [number, number] {
  const u = v & 0xffff;
  return [u >> 8, u & 0xff];
}

function signed16(v: number): number {
  return v & 0x8000 ? v - 0x10000 : v;
}

export function shuntRegister(chip: Chip, currentA: number, shuntOhms: number): [number, number] {
  const volts = Math.max(-SHUNT_MAX[chip], Math.min(SHUNT_MAX[chip], currentA * shuntOhms));
  return word(Math.round(volts / SHUNT_LSB[chip]));
}

export function busRegister(chip: Chip, volts: number): [number, number] {
  if (chip === 'ina219') return word((Math.round(Math.max(0, Math.min(32, volts)) / 4e-3) << 3) | 0b10);
  return word(Math.round(Math.max(0, Math.min(40.96, volts)) / 1.25e-3));
}

/** One chip on the bus: the registers it holds and the ones it computes from the analog truth. */
export class InaChip {
  readonly chip: Chip;
  readonly shuntOhms: number;
  #config: number;
  #calibration = 0;

  constructor(chip: Chip, shuntOhms: number) {
    this.chip = chip;
    this.shuntOhms = shuntOhms;
    this.#config = CONFIG_RESET[chip];
  }

  /** A register write (pointer byte + MSB + LSB); read-only registers ignore it as the chips do. */
  write(register: number, value: number): void {
    if (register === 0x00) {
      // Bit 15 (RST) resets every register to its power-on value and clears itself.
      if (value & 0x8000) {
        this.#config = CONFIG_RESET[this.chip];
        this.#calibration = 0;
      } else this.#config = value & 0xffff;
    } else if (register === 0x05) {
      // INA219 ignores calibration bit 0 (FS0 is void, SBOS448 §8.6.3.6); INA226 bit 15 is reserved.
      this.#calibration = this.chip === 'ina219' ? value & 0xfffe : value & 0x7fff;
    }
  }

  /** The 16-bit register as two bytes, or undefined for a pointer the chip does not decode. */
  read(register: number, analog: { busV: number; currentA: number }): [number, number] | undefined {
    const shunt = shuntRegister(this.chip, analog.currentA, this.shuntOhms);
    const bus = busRegister(this.chip, analog.busV);
    const shuntRaw = signed16((shunt[0] << 8) | shunt[1]);
    const busRaw = this.chip === 'ina219' ? ((bus[0] << 8) | bus[1]) >> 3 : (bus[0] << 8) | bus[1];
    const current = Math.trunc((shuntRaw * this.#calibration) / (this.chip === 'ina219' ? 4096 : 2048));
    switch (register) {
      case 0x00:
        return word(this.#config);
      case 0x01:
        return shunt;
      case 0x02:
        return bus;
      case 0x03:
        return word(Math.min(0xffff, Math.trunc(Math.abs(current * busRaw) / (this.chip === 'ina219' ? 5000 : 20_000))));
      case 0x04:
        return word(Math.max(-0x8000, Math.min(0x7fff, current)));
      case 0x05:
        return word(this.#calibration);
      case 0xfe:
        return this.chip === 'ina226' ? word(0x5449) : undefined;
      case 0xff:
        return this.chip === 'ina226' ? word(0x2260) : undefined;
      default:
        return undefined;
    }
  }
}
