/**
 * Fault injection on injected time: towing the unit, a GPS epoch cut off mid-sentence, a manual
 * power cut and the pack's own low-voltage disconnect and reconnect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNmeaSentence } from 'nmea-simple';
import { boardDefinition, openBoard, type PowerEvent, systemClock } from '../src/index.ts';
import { checksum } from '../src/sim/nmea-gps.ts';

const HARBIN = { lat: 45.75, lon: 126.63 };

async function mocked(t: import('node:test').TestContext, start: number, soc = 80, bmsCutoff = false) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: start });
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: {
      unitId: 'hrb-020',
      site: HARBIN,
      scenario: 'harbin-winter',
      link: 'lte',
      clock: systemClock,
      seed: 20,
      soc,
      timeScale: 1,
      bmsCutoff,
    },
  });
  t.after(() => b.close());
  const sim = b.sim;
  assert.ok(sim);
  let text = '';
  b.gps.stream.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  const take = async () => {
    await new Promise((r) => setImmediate(r));
    const got = text;
    text = '';
    return got.split('\r\n').filter(Boolean);
  };
  return { b, sim, take };
}

/** Whether a line is a whole NMEA sentence whose checksum matches (NMEA 0183 §5.3). */
function intact(line: string): boolean {
  const m = /^\$([^*]+)\*([0-9A-F]{2})$/.exec(line);
  return m !== null && checksum(m[1] ?? '') === m[2];
}

test('towing the unit: position advances along the course; RMC and VTG carry speed and course', async (t) => {
  const { sim, take } = await mocked(t, Date.UTC(2026, 11, 10, 4, 0, 0));
  sim.drive(10, 90); // 10 m/s due east
  for (let s = 0; s < 60; s++) t.mock.timers.tick(1000);
  const lines = await take();
  assert.ok(lines.every(intact));
  const rmc = parseNmeaSentence(lines.filter((l) => l.startsWith('$GNRMC')).at(-1) ?? '') as {
    longitude: number;
    latitude: number;
    speedKnots: number;
    trackTrue: number;
  };
  const metresEast = (rmc.longitude - HARBIN.lon) * 111_320 * Math.cos((HARBIN.lat * Math.PI) / 180);
  assert.ok(Math.abs(metresEast - 600) < 10, `${metresEast} m`);
  assert.ok(Math.abs(rmc.latitude - HARBIN.lat) < 5e-5);
  assert.ok(Math.abs(rmc.speedKnots - 19.438) < 0.01);
  assert.equal(rmc.trackTrue, 90);
  assert.match(lines.filter((l) => l.startsWith('$GNVTG')).at(-1) ?? '', /^\$GNVTG,90\.0,T,,M,19\.438,N,36\.000,K,A\*/);
  sim.drive(0);
  assert.equal(sim.truth().velocity, undefined);
});

test('a truncated GPS epoch ends mid-sentence; the next epoch is whole', async (t) => {
  const { sim, take } = await mocked(t, Date.UTC(2026, 11, 10, 4, 0, 0));
  t.mock.timers.tick(1000);
  await take();
  sim.serialTruncate('gps');
  t.mock.timers.tick(1000);
  t.mock.timers.tick(1000);
  const lines = await take();
  const broken = lines.filter((l) => !intact(l));
  assert.equal(broken.length, 1, 'exactly the cut sentence is damaged');
  // The cut sentence runs into the next epoch's first one.
  assert.ok(lines.filter((l) => l.startsWith('$GNRMC') && intact(l)).length >= 1);
  assert.ok(lines.slice(-5).every(intact), 'the epoch after the cut is intact');
});

test('a manual power cut silences GPS, modem and I²C and is announced; restore brings them back', async (t) => {
  const { b, sim, take } = await mocked(t, Date.UTC(2026, 11, 10, 4, 0, 0));
  const events: PowerEvent[] = [];
  sim.onPower((e) => events.push(e));
  sim.powerCut();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    events.map((e) => [e.powered, e.reason]),
    [[false, 'manual']],
  );
  const truth = sim.truth();
  assert.equal(truth.powered, false);
  assert.equal(truth.power.loadW, 0, 'nothing draws with the supply cut');
  await take();
  for (let s = 0; s < 3; s++) t.mock.timers.tick(1000);
  assert.deepEqual(await take(), [], 'no NMEA from an unpowered receiver');
  let answered = false;
  b.modem.stream.once('data', () => {
    answered = true;
  });
  b.modem.stream.write('AT\r');
  b.io.i2cReadOnce(0x44, 0x02, 2, () => {
    answered = true;
  });
  t.mock.timers.tick(1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(answered, false);
  sim.powerRestore();
  t.mock.timers.tick(1000);
  assert.ok((await take()).some((l) => l.startsWith('$GNRMC')));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    events.map((e) => [e.powered, e.reason]),
    [
      [false, 'manual'],
      [true, 'manual'],
    ],
  );
});

test('with bmsCutoff, an empty pack disconnects the load on its own and reconnects once the sun has put 5 % back', async (t) => {
  // 13:00 UTC = 21:00 in Harbin: a winter night ahead, then a day's harvest.
  const { sim } = await mocked(t, Date.UTC(2026, 11, 10, 13, 0, 0), 0.5, true);
  const events: PowerEvent[] = [];
  sim.onPower((e) => events.push(e));
  sim.setWeather({ cloud: 0, windMps: 0, tempC: 5 });
  for (let m = 0; m < 60 && sim.truth().powered; m++) t.mock.timers.tick(60_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    events.map((e) => [e.powered, e.reason]),
    [[false, 'battery-empty']],
  );
  assert.equal(sim.truth().power.storedWh, 0);
  // Hold the pack above 0 °C so it may charge, then let two clear days recharge it.
  for (let m = 0; m < 2 * 24 * 60 && !sim.truth().powered; m++) {
    sim.setWeather({ cloud: 0, tempC: 5 });
    t.mock.timers.tick(60_000);
  }
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events.at(-1)?.reason, 'recharged');
  assert.ok(sim.truth().power.soc >= 5 && sim.truth().powered);
});

test('startTime pins the simulated world (sun, GPS date) while timers still run on the clock', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.UTC(2026, 5, 21, 4, 0, 0) });
  const solstice = Date.UTC(2026, 11, 21, 4, 0, 0); // local noon in Harbin, winter
  const b = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-021', site: HARBIN, scenario: 'harbin-winter', link: 'lte', clock: systemClock, seed: 21, startTime: solstice },
  });
  t.after(() => b.close());
  let text = '';
  b.gps.stream.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  t.mock.timers.tick(1000);
  await new Promise((r) => setImmediate(r));
  const truth = b.sim?.truth();
  assert.equal(truth?.time, solstice + 1000);
  assert.ok(Math.abs((truth?.weather.sunElevationDeg ?? 0) - 20.8) < 1, 'the low December sun, not June’s 67°');
  assert.match(text, /^\$GNRMC,040001\.00,A,.*,211226,/m);
});
