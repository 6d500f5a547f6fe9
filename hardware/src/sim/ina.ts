/**
 * Register images of the TI INA219 (SBOS448) and INA226 (SBOS547) current/power monitors, as
 * the chips present them on I²C: big-endian 16-bit registers.
 * - Shunt voltage (0x01): signed, LSB 10 µV (INA219, PGA /8) or 2.5 µV (INA226).
 * - Bus voltage (0x02): INA219 bits 15:3 with LSB 4 mV, bit 1 CNVR (conversion ready), bit 0
 *   OVF (math overflow) — SBOS448 §8.6.3.2; INA226 LSB 1.25 mV, all 16 bits — SBOS547 §7.6.3.
 */
export type Chip = 'ina219' | 'ina226';

const SHUNT_LSB = { ina219: 10e-6, ina226: 2.5e-6 } as const;
const SHUNT_MAX = { ina219: 0.32, ina226: 0.08192 } as const;

function word(v: number): [number, number] {
  const u = v & 0xffff;
  return [u >> 8, u & 0xff];
}

export function shuntRegister(chip: Chip, currentA: number, shuntOhms: number): [number, number] {
  const volts = Math.max(-SHUNT_MAX[chip], Math.min(SHUNT_MAX[chip], currentA * shuntOhms));
  return word(Math.round(volts / SHUNT_LSB[chip]));
}

export function busRegister(chip: Chip, volts: number): [number, number] {
  if (chip === 'ina219') return word((Math.round(Math.max(0, Math.min(32, volts)) / 4e-3) << 3) | 0b10);
  return word(Math.round(Math.max(0, Math.min(40.96, volts)) / 1.25e-3));
}
