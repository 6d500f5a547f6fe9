/**
 * Power-monitor register contract through johnny-five: after the host programs the calibration
 * register, the chips' own current (0x04) and power (0x03) registers decode to the truth, with the
 * LSBs of the datasheets (INA219 SBOS448 §8.5.1, INA226 SBOS547 §7.5.1). Also the reset bit, the
 * INA226 ID registers and the analog temperature channel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Board from 'johnny-five/lib/board.js';
import { boardDefinition, openBoard, systemClock } from '../../src/index.ts';

async function j5(t: import('node:test').TestContext) {
  const def = boardDefinition('pi4');
  const b = await openBoard(def, {
    mode: 'sim',
    sim: { unitId: 'hrb-050', site: { lat: 45.75, lon: 126.63 }, scenario: 'harbin-winter', link: 'lte', clock: systemClock, seed: 50 },
  });
  t.after(() => b.close());
  const board = new Board({ io: b.io as never, repl: false, debug: false });
  await new Promise<void>((resolve) => board.once('ready', () => resolve()));
  const u16 = (address: number, register: number) =>
    new Promise<number>((resolve) => board.i2cReadOnce(address, register, 2, (d: number[]) => resolve(((d[0] ?? 0) << 8) | (d[1] ?? 0))));
  const s16 = async (address: number, register: number) => ((await u16(address, register)) << 16) >> 16;
  const write16 = (address: number, register: number, value: number) => board.i2cWrite(address, register, [value >> 8, value & 0xff]);
  const truth = () => {
    const p = b.sim?.truth().power;
    assert.ok(p);
    return p;
  };
  return { b, def, u16, s16, write16, truth };
}

test('INA219 on the load: calibration 4096 over 0.1 Ω gives current LSB 100 µA and power LSB 2 mW', async (t) => {
  const { u16, s16, write16, truth } = await j5(t);
  assert.equal(await u16(0x45, 0x00), 0x399f, 'configuration at its power-on value');
  assert.equal(await u16(0x45, 0x04), 0, 'current reads 0 until calibrated');
  // Cal = trunc(0.04096 / (Current_LSB × R_shunt)) = 0.04096 / (100 µA × 0.1 Ω) = 4096 (SBOS448 eq. 1).
  write16(0x45, 0x05, 4096);
  assert.equal(await u16(0x45, 0x05), 4096);
  const p = truth();
  const amps = (await s16(0x45, 0x04)) * 100e-6;
  const watts = (await u16(0x45, 0x03)) * 2e-3;
  const trueA = p.loadW / p.batteryV;
  assert.ok(Math.abs(amps - trueA) <= 100e-6 * 1.5, `${amps} A vs ${trueA} A`);
  // Power is current × bus as the chip computes it from its own truncated registers: within a couple of LSBs.
  assert.ok(Math.abs(watts - p.loadW) <= 2e-3 * 2 + p.loadW * 2e-3, `${watts} W vs ${p.loadW} W`);
  write16(0x45, 0x00, 0x8000); // RST
  assert.deepEqual([await u16(0x45, 0x00), await u16(0x45, 0x05)], [0x399f, 0]);
});

test('INA226 on the battery: IDs, signed current with calibration 2048 over 10 mΩ (250 µA LSB, power 25 × that)', async (t) => {
  const { u16, s16, write16, truth } = await j5(t);
  assert.deepEqual([await u16(0x44, 0xfe), await u16(0x44, 0xff)], [0x5449, 0x2260]);
  assert.equal(await u16(0x44, 0x00), 0x4127);
  // Cal = 0.00512 / (Current_LSB × R_shunt) = 0.00512 / (250 µA × 0.01 Ω) = 2048 (SBOS547 eq. 1).
  write16(0x44, 0x05, 2048);
  const p = truth();
  const amps = (await s16(0x44, 0x04)) * 250e-6;
  const trueA = p.batteryW / p.batteryV;
  assert.ok(Math.abs(amps - trueA) <= 250e-6 * 1.5, `${amps} A vs ${trueA} A`);
  const watts = (await u16(0x44, 0x03)) * 25 * 250e-6;
  assert.ok(Math.abs(watts - Math.abs(p.batteryW)) <= 25 * 250e-6 * 2 + Math.abs(p.batteryW) * 2e-3, `${watts} vs ${p.batteryW}`);
});

test('the INA219 decodes no ID registers (reads zero); an address nobody holds does not answer', async (t) => {
  const { b, u16 } = await j5(t);
  assert.equal(await u16(0x45, 0xfe), 0);
  const answered = await new Promise<boolean>((resolve) => {
    b.io.i2cReadOnce(0x48, 0x00, 2, () => resolve(true));
    setTimeout(() => resolve(false), 50);
  });
  assert.equal(answered, false);
});

test('enclosure temperature on the analog channel decodes to the pack temperature within one ADC step', async (t) => {
  const { b, def, truth } = await j5(t);
  const raw = await new Promise<number>((resolve) => b.io.analogRead(def.temperature.pin, resolve));
  const c = raw * def.temperature.scale + def.temperature.offset;
  assert.ok(Math.abs(c - truth().batteryTempC) <= def.temperature.scale, `${c} vs ${truth().batteryTempC}`);
});
