import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlarmEngine, alarmId, DEFAULT_ALARM_CONFIG, distanceM, sampleDelayMs } from '../src/domain/alarms.ts';

const site = { lat: 45.75, lon: 126.63, radiusM: 200 };

test('a tilt must last five seconds to raise; one occurrence keeps one id until it clears', () => {
  const e = new AlarmEngine();
  const base = { siteClosed: false };
  assert.deepEqual(e.evaluate({ ...base, ts: 0, tiltDeg: 50 }), []);
  assert.deepEqual(e.evaluate({ ...base, ts: 2000, tiltDeg: 10 }), [], 'a gust: back upright');
  assert.deepEqual(e.evaluate({ ...base, ts: 3000, tiltDeg: 50 }), []);
  const [raised] = e.evaluate({ ...base, ts: 8000, tiltDeg: 55 });
  assert.equal(raised?.state, 'raised');
  assert.equal(raised?.id, alarmId('tilt', 3000));
  // Still tilted: no duplicate.
  assert.deepEqual(e.evaluate({ ...base, ts: 60_000, tiltDeg: 60 }), []);
  assert.deepEqual(e.evaluate({ ...base, ts: 61_000, tiltDeg: 0 }), []);
  const [cleared] = e.evaluate({ ...base, ts: 121_000, tiltDeg: 0 });
  assert.deepEqual([cleared?.state, cleared?.id], ['cleared', raised?.id]);
});

test('motion raises only at a closed site; tamper raises at once', () => {
  const e = new AlarmEngine();
  assert.deepEqual(e.evaluate({ ts: 0, motion: true, siteClosed: false }), []);
  assert.deepEqual(e.evaluate({ ts: 5000, motion: true, siteClosed: false }), []);
  assert.deepEqual(e.evaluate({ ts: 6000, motion: true, siteClosed: true }), []);
  assert.equal(e.evaluate({ ts: 8000, motion: true, siteClosed: true })[0]?.kind, 'motion');
  const [t] = e.evaluate({ ts: 9000, tamper: true, siteClosed: true });
  assert.deepEqual([t?.kind, t?.severity], ['tamper', 'critical']);
});

test('low battery and over-temperature clear only past their hysteresis band', () => {
  const e = new AlarmEngine();
  e.evaluate({ ts: 0, soc: 12, siteClosed: false });
  assert.equal(e.evaluate({ ts: 60_000, soc: 12, siteClosed: false })[0]?.state, 'raised');
  // 17 % is above the 15 % raise level but below the 20 % clear level.
  assert.deepEqual(e.evaluate({ ts: 700_000, soc: 17, siteClosed: false }), []);
  e.evaluate({ ts: 800_000, soc: 25, siteClosed: false });
  assert.equal(e.evaluate({ ts: 1_400_000, soc: 25, siteClosed: false })[0]?.state, 'cleared');
  e.evaluate({ ts: 0, tempC: 75, siteClosed: false });
  assert.equal(e.evaluate({ ts: 60_000, tempC: 72, siteClosed: false })[0]?.kind, 'over-temperature');
});

test('nextDue: when the earliest running debounce ends, for a raise and for a clear', () => {
  const e = new AlarmEngine();
  assert.equal(e.nextDue(), undefined, 'nothing pending');
  e.evaluate({ ts: 1000, soc: 12, siteClosed: false });
  assert.equal(e.nextDue(), 61_000, 'low battery raises after 60 s');
  e.evaluate({ ts: 2000, tiltDeg: 50, siteClosed: false });
  assert.equal(e.nextDue(), 7000, 'the tilt (5 s) ends first');
  e.evaluate({ ts: 3000, tiltDeg: 0, soc: 12, siteClosed: false });
  assert.equal(e.nextDue(), 61_000, 'back upright: only the battery is pending');
  e.evaluate({ ts: 61_000, soc: 12, siteClosed: false });
  assert.equal(e.nextDue(), undefined, 'raised: nothing pending');
  e.evaluate({ ts: 70_000, soc: 30, siteClosed: false });
  assert.equal(e.nextDue(), 70_000 + 10 * 60_000, 'recharged: the clear waits ten minutes');
});

test('the next sample comes when a debounce ends, never later than the period, and never in a loop', () => {
  const period = 300_000;
  assert.equal(sampleDelayMs(period, undefined, 0, 50), period, 'nothing pending: the rung period');
  assert.equal(sampleDelayMs(period, 60_000, 0, 50), 59_950, 'a debounce ends first: sample then');
  assert.equal(sampleDelayMs(period, 900_000, 0, 50), period, 'a debounce longer than the period: the period');
  assert.equal(sampleDelayMs(period, 60_000, 59_990, 60_010), 0, 'the read outlasted the debounce: at once');
  // The debounce ended at or before the last sample and that sample could not decide it (no reading).
  assert.equal(sampleDelayMs(period, 60_000, 60_000, 60_010), period, 'a silent sensor does not spin the loop');
});

test('geofence: GNSS jumps are ignored, a real move raises with the distance', () => {
  const e = new AlarmEngine({ ...DEFAULT_ALARM_CONFIG, site });
  const far = { lat: site.lat + 0.01, lon: site.lon };
  assert.ok(Math.abs(distanceM(site.lat, site.lon, far.lat, far.lon) - 1112) < 2);
  e.evaluate({ ts: 0, ...far, siteClosed: false });
  assert.deepEqual(e.evaluate({ ts: 10_000, lat: site.lat, lon: site.lon, siteClosed: false }), []);
  e.evaluate({ ts: 20_000, ...far, siteClosed: false });
  const [g] = e.evaluate({ ts: 50_000, ...far, siteClosed: false });
  assert.deepEqual([g?.kind, g?.value, g?.lat], ['geofence', 1112, far.lat]);
});

test('open alarms survive a restart with the same id', () => {
  const a = new AlarmEngine();
  const [t] = a.evaluate({ ts: 1000, tamper: true, siteClosed: false });
  const b = new AlarmEngine(DEFAULT_ALARM_CONFIG, a.snapshot());
  assert.deepEqual(b.open(), [{ id: t?.id, kind: 'tamper', severity: 'critical', raisedAt: 1000 }]);
  assert.deepEqual(b.evaluate({ ts: 2000, tamper: true, siteClosed: false }), [], 'not raised twice');
});
