import assert from 'node:assert/strict';
import { test } from 'node:test';
import Board from 'johnny-five/lib/board.js';
import { boardDefinition, openBoard, systemClock } from '../../src/index.ts';

test('johnny-five over the IO plugin: INA219/INA226 registers decode to the simulated truth within one LSB', async (t) => {
  const def = boardDefinition('pi4');
  const b = await openBoard(def, {
    mode: 'sim',
    sim: {
      unitId: 'hrb-002',
      site: { lat: 45.75, lon: 126.6 },
      scenario: 'harbin-summer',
      link: 'lte',
      clock: systemClock,
      seed: 2,
      soc: 60,
    },
  });
  t.after(() => b.close());
  const board = new Board({ io: b.io as never, repl: false, debug: false });
  await new Promise<void>((resolve) => board.once('ready', () => resolve()));
  const read = (address: number, register: number) =>
    new Promise<number>((resolve) =>
      board.i2cReadOnce(address, register, 2, (d: number[]) => resolve(((((d[0] ?? 0) << 8) | (d[1] ?? 0)) << 16) >> 16)),
    );
  const truth = b.sim?.truth().power;
  assert.ok(truth);
  // INA226 on the battery (0x44): bus LSB 1.25 mV.
  const busV = (await read(0x44, 0x02)) * 1.25e-3;
  assert.ok(Math.abs(busV - truth.batteryV) <= 1.25e-3, `${busV} vs ${truth.batteryV}`);
  // INA219 on the load (0x45): bus bits 15:3 at 4 mV, CNVR set, OVF clear; shunt 10 µV over 0.1 Ω.
  const raw = (await read(0x45, 0x02)) & 0xffff;
  assert.equal(raw & 0b11, 0b10);
  assert.ok(Math.abs((raw >> 3) * 4e-3 - truth.batteryV) <= 4e-3);
  const loadA = ((await read(0x45, 0x01)) * 10e-6) / 0.1;
  assert.ok(Math.abs(loadA - truth.loadW / truth.batteryV) <= 10e-6 / 0.1 + 1e-9);
});

test('a silent I²C device does not answer (the driver must time out), and digital pins follow tamper', async (t) => {
  const b = await openBoard(boardDefinition('cm4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-003', site: { lat: 45.75, lon: 126.6 }, scenario: 'temperate', link: 'nr', clock: systemClock, seed: 3 },
  });
  t.after(() => b.close());
  b.sim?.i2cSilent(0x40, true);
  const answered = await new Promise<boolean>((resolve) => {
    b.io.i2cReadOnce(0x40, 0x02, 2, () => resolve(true));
    setTimeout(() => resolve(false), 100);
  });
  assert.equal(answered, false);
  b.sim?.tamper(true);
  const v = await new Promise<number>((resolve) => b.io.digitalRead(17, resolve));
  assert.equal(v, 1);
});

test('digital pins report on change (as Firmata does); analog tilt reports on the ADC rate', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval'] });
  const b = await openBoard(boardDefinition('zero2w'), {
    mode: 'sim',
    sim: { unitId: 'hrb-006', site: { lat: 45.75, lon: 126.6 }, scenario: 'temperate', link: 'lte', clock: systemClock, seed: 6 },
  });
  t.after(() => b.close());
  const motion: number[] = [];
  const tilt: number[] = [];
  b.io.digitalRead(27, (v) => motion.push(v));
  b.io.analogRead('A0', (v) => tilt.push(v));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(motion, [0], 'the first report comes at once');
  t.mock.timers.tick(1000);
  assert.deepEqual(motion, [0], 'no change, no report');
  b.sim?.motion(true);
  b.sim?.motion(true);
  b.sim?.motion(false);
  assert.deepEqual(motion, [0, 1, 0]);
  b.sim?.tilt(45);
  const before = tilt.length;
  t.mock.timers.tick(100);
  assert.equal(tilt.length, before + 1);
  // 10-bit ADC over 0–90°: 45° is raw 512 ± one step.
  assert.ok(Math.abs((tilt.at(-1) ?? 0) * (90 / 1023) - 45) <= 90 / 1023);
});
