/**
 * The simulator on injected time: node:test mock timers drive `systemClock`, so a December day
 * over Harbin passes in well under a second and every figure comes from the simulated clock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNmeaSentence } from 'nmea-simple';
import { boardDefinition, openBoard, systemClock } from '../src/index.ts';

const HARBIN = { lat: 45.75, lon: 126.63 };

async function mockedBoard(t: import('node:test').TestContext, start: number, extra: { timeScale?: number; soc?: number } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: start });
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-010', site: HARBIN, scenario: 'harbin-winter', link: 'lte', clock: systemClock, seed: 10, ...extra },
  });
  t.after(() => b.close());
  const sim = b.sim;
  assert.ok(sim);
  return { b, sim };
}

test('the GPS writes one epoch per second of the injected clock, stamped with that clock', async (t) => {
  const start = Date.UTC(2026, 11, 10, 4, 0, 0);
  const { b } = await mockedBoard(t, start);
  let text = '';
  b.gps.stream.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  for (let s = 0; s < 5; s++) t.mock.timers.tick(1000);
  await new Promise((r) => setImmediate(r));
  const rmc = text
    .split('\r\n')
    .filter((l) => l.startsWith('$GNRMC'))
    .map((l) => parseNmeaSentence(l) as { datetime: Date });
  assert.deepEqual(
    rmc.map((p) => p.datetime.getTime()),
    [1, 2, 3, 4, 5].map((s) => start + s * 1000),
  );
});

test('a December day at Harbin: the always-on load (Pi 4 + camera + LTE) outruns the harvest', async (t) => {
  const start = Date.UTC(2026, 11, 10, 16, 0, 0); // local midnight (UTC+8)
  const { sim } = await mockedBoard(t, start, { timeScale: 3600, soc: 90 });
  const before = sim.truth();
  let solarWh = 0;
  let minTemp = Infinity;
  let heaterWh = 0;
  for (let m = 0; m < 24 * 60; m++) {
    t.mock.timers.tick(60_000);
    const p = sim.truth();
    solarWh += p.power.solarW / 60;
    heaterWh += p.power.heaterW / 60;
    minTemp = Math.min(minTemp, p.weather.tempC);
  }
  const after = sim.truth();
  const loadW = after.power.loadW;
  assert.ok(Math.abs(loadW - (3.1 + 1.25 + 2.5)) < 1e-9, `load ${loadW} W`);
  assert.ok(minTemp <= -28, `coldest ${minTemp} °C`);
  assert.ok(solarWh > 3 && solarWh < 40, `solar ${solarWh.toFixed(1)} Wh`);
  const drop = before.power.storedWh - after.power.storedWh;
  // 24 h × 6.85 W = 164 Wh drawn, less what sun and wind put back (after the heater's share).
  assert.ok(drop > 164 - solarWh - 60 && drop < 164, `drop ${drop.toFixed(1)} Wh, heater ${heaterWh.toFixed(1)} Wh`);
  assert.ok(after.power.soc < before.power.soc);
  assert.ok(after.gpsOverruns > 0, 'nobody read the GPS: epochs were lost, not queued');
});

test('cutting the camera and the radio lowers the simulated load at once', async (t) => {
  const { b, sim } = await mockedBoard(t, Date.UTC(2026, 11, 10, 16, 0, 0));
  const full = sim.truth().power.loadW;
  sim.cameraPower(false);
  b.modem.stream.write('AT+CFUN=4\r');
  await new Promise((r) => setImmediate(r));
  t.mock.timers.tick(120_000);
  const low = sim.truth();
  assert.equal(low.modem.radioOn, false);
  assert.ok(Math.abs(full - low.power.loadW - (1.25 + 2.5 - 0.1)) < 1e-9, `${full} → ${low.power.loadW}`);
});

test('setSoc and a cold snap show in the truth; the pack does not charge below 0 °C without its heater', async (t) => {
  const { sim } = await mockedBoard(t, Date.UTC(2026, 11, 11, 4, 0, 0)); // local noon
  sim.setSoc(40);
  assert.ok(Math.abs(sim.truth().power.soc - 40) < 1e-9);
  sim.setWeather({ cloud: 0, windMps: 12, tempC: -30 });
  t.mock.timers.tick(60_000);
  const p = sim.truth().power;
  assert.ok(p.windW > 20, `wind ${p.windW} W`);
  assert.ok(p.batteryTempC < 0);
  assert.ok(p.heaterW > 0, 'the surplus goes to the heater first');
});

test('at a high time scale the receiver slows its navigation rate to ~10 epochs per real second', async (t) => {
  const start = Date.UTC(2026, 11, 10, 4, 0, 0);
  const { b } = await mockedBoard(t, start, { timeScale: 3600 });
  let rmc = 0;
  b.gps.stream.on('data', (d: Buffer) => {
    rmc += d.toString('latin1').split('$GNRMC').length - 1;
  });
  for (let s = 0; s < 3600; s += 60) t.mock.timers.tick(60_000);
  await new Promise((r) => setImmediate(r));
  // 3600 simulated s at 3600× is one real second: 10 epochs, one every 360 s of simulated time.
  assert.equal(rmc, 10);
});
