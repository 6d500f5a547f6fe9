/**
 * INA219/INA226 decoding on register bytes as the datasheets give them, and the reader's handling
 * of a bus that answers short or not at all. The johnny-five path runs in the agent test on the
 * simulator's IO plugin.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import { decodeBus, decodeShunt, type I2cBus, PowerMonitors } from '../src/drivers/power-monitor.ts';

test('INA226 (SBOS547 §7.6): bus 1.25 mV/LSB, shunt 2.5 µV/LSB two’s complement', () => {
  // 0x2AF8 = 11000 × 1.25 mV = 13.75 V; 0x0FA0 = 4000 × 2.5 µV = 10 mV; 0xF060 = −4000.
  assert.equal(decodeBus('ina226', [0x2a, 0xf8]), 13.75);
  assert.ok(Math.abs(decodeShunt('ina226', [0x0f, 0xa0]) - 0.01) < 1e-12);
  assert.ok(Math.abs(decodeShunt('ina226', [0xf0, 0x60]) + 0.01) < 1e-12);
});

test('INA219 (SBOS448 §8.6): bus in bits 15:3 at 4 mV, OVF flag refuses the reading', () => {
  // 3000 × 4 mV = 12 V → 3000 << 3 = 0x5DC0; with CNVR (bit 1) set still 12 V.
  assert.equal(decodeBus('ina219', [0x5d, 0xc2]), 12);
  assert.equal(decodeBus('ina219', [0x5d, 0xc1]), undefined);
  assert.ok(Math.abs(decodeShunt('ina219', [0x03, 0xe8]) - 0.01) < 1e-12);
});

test('a short read and a silent chip are counted; the other channels still read', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const regs: Record<number, Record<number, number[]>> = { 64: { 1: [0x0f, 0xa0], 2: [0x2a, 0xf8] }, 65: { 1: [0x01], 2: [0x2a, 0xf8] } };
  const bus: I2cBus = {
    i2cConfig: () => undefined,
    i2cReadOnce: (addr, reg, _n, cb) => {
      const v = regs[addr]?.[reg];
      if (v) queueMicrotask(() => cb(v));
    },
  };
  const m = new PowerMonitors(
    bus,
    [
      { name: 'battery', chip: 'ina226', address: 0x40, shuntOhms: 0.001 },
      { name: 'solar', chip: 'ina226', address: 0x41, shuntOhms: 0.001 },
      { name: 'wind', chip: 'ina226', address: 0x42, shuntOhms: 0.001 },
    ],
    { clock: systemClock, timeoutMs: 500 },
  );
  const p = m.readAll();
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setImmediate(r));
    t.mock.timers.tick(500);
  }
  const r = await p;
  assert.deepEqual(Object.keys(r), ['battery']);
  assert.deepEqual(r.battery, { busV: 13.75, currentA: 10, powerW: 137.5 });
  assert.equal(m.dropped.get('short-read'), 1);
  assert.equal(m.dropped.get('timeout'), 2);
});
