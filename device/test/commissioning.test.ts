/**
 * Commissioning on the simulator through the real broker: the checklist runs on request, each
 * item measured on the (simulated) hardware, the test upload goes the whole way to a PUBACK, and a
 * fault shows up as a failed item with a reason rather than a failed command.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardDefinition } from '@shouwang/hardware';
import { COMMISSION_CHECKS } from '@shouwang/protocol';
import { type GpsDiagnosis, judgeCharge, judgeGps, judgeSignal } from '../src/domain/commissioning.ts';
import { commission, startUnit } from './unit.ts';
import { until } from './wait.ts';

// Harbin, 21 Dec 2026 at local noon: a low sun, but the panel harvests on a clear day.
const NOON = Date.UTC(2026, 11, 21, 4, 0);

test('a healthy unit passes every check, in order, with what was measured; the result is reported as an event', async (t) => {
  const u = await startUnit(t, { timeScale: 10, start: NOON });
  u.sim.setWeather({ cloud: 0, windMps: 6 });
  await until('online with a fix and a charge estimate', () => u.device.uplink.ready && u.device.agent.soc !== undefined, 15_000);
  await until('gps fix', () => u.device.gps.current()?.fix === '3d', 15_000);
  const items = await commission(u, 'com-1');
  assert.deepEqual(
    items.map((i) => i.check),
    [...COMMISSION_CHECKS],
  );
  for (const i of items) assert.ok(i.pass, `${i.check}: ${i.detail}`);
  assert.ok((items.find((i) => i.check === 'camera')?.value ?? 0) > 1000, 'a real JPEG from ffmpeg');
  await until(
    'commission event delivered',
    () => u.decoded().some((m) => m.type === 'uplink' && m.kind === 'event' && m.payload.kind === 'commission' && m.payload.to === 'pass'),
    10_000,
  );
});

test('at night in calm air the charge check is pending, not failed: the run passes and says what to judge in daylight', async (t) => {
  const MIDNIGHT = Date.UTC(2026, 11, 21, 16, 0);
  const u = await startUnit(t, { timeScale: 10, start: MIDNIGHT });
  u.sim.setWeather({ cloud: 0, windMps: 0 });
  await until('online with a fix and a charge estimate', () => u.device.uplink.ready && u.device.agent.soc !== undefined, 15_000);
  await until('gps fix', () => u.device.gps.current()?.fix === '3d', 15_000);
  const items = await commission(u, 'com-night');
  const charge = items.find((i) => i.check === 'charge');
  assert.deepEqual([charge?.pass, charge?.pending], [false, true], charge?.detail);
  assert.match(charge?.detail ?? '', /solar 0 W, wind 0 W: sun \d+° below the horizon and the turbine still, cannot be judged now/);
  await until(
    'the run is reported as passed, with the check left for daylight',
    () =>
      u
        .decoded()
        .some(
          (m) =>
            m.type === 'uplink' &&
            m.kind === 'event' &&
            m.payload.kind === 'commission' &&
            m.payload.to === 'pass' &&
            m.payload.reason === 'to judge in daylight: charge',
        ),
    10_000,
  );
});

test('a dead solar monitor fails the charge check with the reason; the other checks still run', async (t) => {
  const u = await startUnit(t, { timeScale: 10, start: NOON });
  await until('online', () => u.device.uplink.ready && u.device.agent.soc !== undefined, 15_000);
  const solar = boardDefinition(u.cfg.board).monitors.find((m) => m.name === 'solar');
  assert.ok(solar);
  u.sim.i2cSilent(solar.address, true);
  const items = await commission(u, 'com-2');
  const charge = items.find((i) => i.check === 'charge');
  assert.deepEqual([charge?.pass, charge?.detail], [false, 'solar monitor does not answer on I²C']);
  assert.equal(items.find((i) => i.check === 'upload')?.pass, true);
  assert.equal(items.length, COMMISSION_CHECKS.length);
});

test('judges: thresholds a technician can act on', () => {
  const gps = (fix: GpsDiagnosis['fix'], more: Partial<GpsDiagnosis> = {}): GpsDiagnosis => ({
    path: '/dev/ttyUSB1',
    baudRate: 9600,
    state: 'open',
    bytes: 4000,
    sentences: 50,
    satellitesInView: 9,
    fix,
    ...more,
  });
  assert.equal(judgeGps(gps({ fix: '2d', sats: 4, hdop: 3 })).pass, false);
  assert.equal(judgeGps(gps({ fix: '3d', sats: 9, hdop: 7.5 })).pass, false);
  assert.equal(judgeGps(gps({ fix: '3d', sats: 9, hdop: 0.9 })).pass, true);
  // Each GPS failure says which one it is.
  assert.match(judgeGps(gps(undefined, { state: 'failed', error: 'ENOENT' })).detail, /cannot be opened.*gps\.path/);
  assert.match(judgeGps(gps(undefined, { bytes: 0, sentences: 0 })).detail, /^no data on \/dev\/ttyUSB1/);
  assert.match(judgeGps(gps(undefined, { sentences: 0 })).detail, /^garbage on .* 9600 Bd: wrong baud rate/);
  assert.match(judgeGps(gps({ fix: 'none' })).detail, /^no fix yet, 9 satellites in view/);
  assert.match(judgeGps(gps({ fix: 'none' }, { satellitesInView: 0 })).detail, /no satellites in view: check the antenna/);
  assert.match(judgeSignal({ type: 'none' }).detail, /registration unknown/);
  assert.equal(judgeSignal({ type: 'lte', rssiDbm: -70, bars: 5 }).pass, false, 'registration unknown does not pass');
  assert.equal(judgeSignal({ type: 'lte', rssiDbm: -109, bars: 1, registered: true }).pass, false);
  assert.match(judgeSignal({ type: 'lte', rssiDbm: -80, bars: 4, registered: false }).detail, /not registered/);
  assert.equal(judgeCharge({ powerW: 0 }, { powerW: 0.2 }).pass, false);
  assert.equal(judgeCharge({ powerW: 3.1 }, { powerW: 0 }).pass, true);
  // No harvest: in the dark it cannot be judged; in daylight it is a fault; without a fix, a fault with its caveat.
  assert.deepEqual(judgeCharge({ powerW: 0 }, { powerW: 0 }, -40), {
    check: 'charge',
    pass: false,
    pending: true,
    detail: 'solar 0 W, wind 0 W: sun 40° below the horizon and the turbine still, cannot be judged now: run it again in daylight',
    value: 0,
  });
  assert.equal(judgeCharge({ powerW: 0 }, { powerW: 0 }, 6).pending, true, 'a sun 6° up gives a panel next to nothing');
  assert.equal(judgeCharge({ powerW: 0 }, { powerW: 2 }, -40).pass, true, 'the turbine turning proves the charge path at night');
  const daylight = judgeCharge({ powerW: 0 }, { powerW: 0 }, 25);
  assert.deepEqual([daylight.pass, daylight.pending], [false, undefined]);
  assert.match(daylight.detail, /no harvest with the sun 25° up — check the panel \(snow, shade\)/);
  assert.match(judgeCharge({ powerW: 0 }, { powerW: 0 }).detail, /or re-run in daylight/);
});
