import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  coldDerating,
  LIFEPO4_4S,
  modemUp,
  nextContactBy,
  PowerEstimator,
  PowerLadder,
  RUNG_LIMITS,
  socFromOcv,
} from '../src/domain/power.ts';

const H = 3_600_000;

test('cold derating follows the LiFePO4 curve: ~70 % at −20 °C', () => {
  assert.equal(coldDerating(25), 1);
  assert.equal(coldDerating(-20), 0.7);
  assert.ok(Math.abs(coldDerating(-25) - 0.65) < 1e-9);
  assert.equal(socFromOcv(LIFEPO4_4S, 13.6), 100);
});

test('the same charge reads emptier in the cold; time to empty follows the net draw', () => {
  const warm = new PowerEstimator(LIFEPO4_4S);
  const cold = new PowerEstimator(LIFEPO4_4S);
  const s = { ts: 0, batteryV: 13.1, solarW: 0, windW: 0, loadW: 6.4 };
  const w = warm.update({ ...s, batteryTempC: 25 });
  const c = cold.update({ ...s, batteryTempC: -25 });
  assert.ok(c.soc < w.soc, `${c.soc} < ${w.soc}`);
  // 60 % of 640 Wh = 384 Wh stored; at −25 °C 35 % of nameplate is locked away: 160 Wh left at 6.4 W.
  assert.equal(c.remainingWh, 160);
  assert.equal(c.timeToEmptyH, 25);
  const later = warm.update({ ...s, ts: 10 * H, batteryTempC: 25 });
  assert.equal(later.remainingWh, 384 - 64);
});

test('no charging below 0 °C: harvest does not fill a frozen battery', () => {
  const e = new PowerEstimator(LIFEPO4_4S);
  const a = e.update({ ts: 0, batteryV: 13.0, batteryTempC: -5, solarW: 40, windW: 0, loadW: 5 });
  const b = e.update({ ts: 5 * H, batteryV: 13.0, batteryTempC: -5, solarW: 40, windW: 0, loadW: 5 });
  assert.equal(b.remainingWh, a.remainingWh);
  assert.equal(b.timeToEmptyH, undefined);
});

test('days of autonomy come from the harvest and load trends once a day is seen', () => {
  const e = new PowerEstimator(LIFEPO4_4S);
  let est = e.update({ ts: 0, batteryV: 13.2, batteryTempC: 10, solarW: 0, windW: 0, loadW: 5 });
  // Two days of 5 W load (120 Wh/day) and 1 W average harvest (24 Wh/day): deficit 96 Wh/day.
  for (let t = H; t <= 49 * H; t += H) est = e.update({ ts: t, batteryV: 13.2, batteryTempC: 10, solarW: 1, windW: 0, loadW: 5 });
  assert.ok(Math.abs(est.harvestWhPerDay - 24) < 1.5, String(est.harvestWhPerDay));
  assert.ok(Math.abs(est.autonomyD - est.remainingWh / 96) < 0.2, `${est.autonomyD} vs ${est.remainingWh / 96}`);
});

test('the ladder walks down at once, climbs back only with hysteresis and after dwelling', () => {
  const l = new PowerLadder();
  const at = (ts: number, soc: number) => l.decide(ts, { soc, autonomyD: 100 });
  assert.equal(at(0, 80).changed, false);
  const d1 = at(1, 55);
  assert.deepEqual([d1.state, d1.changed], ['alarm-camera', true]);
  assert.match(d1.reason ?? '', /full → alarm-camera: soc 55% below 60%/);
  // Hysteresis: 65 % is above the 60 % step-down but below the 70 % step-up.
  assert.equal(at(20 * 60_000, 65).changed, false);
  // Several rungs at once go one per decision.
  assert.equal(at(21 * 60_000, 5).state, 'scheduled-modem');
  assert.equal(at(21 * 60_000 + 1, 5).state, 'satellite-digest');
  assert.equal(at(21 * 60_000 + 2, 5).state, 'deep-sleep');
  // Recovery: not before the dwell time.
  assert.equal(at(22 * 60_000, 25).changed, false);
  const up = at(40 * 60_000, 25);
  assert.deepEqual([up.state, up.changed], ['satellite-digest', true]);
  assert.match(up.reason ?? '', /at or above 20%/);
});

test('a short autonomy forecast takes the unit off the full rung even at high SoC', () => {
  const l = new PowerLadder();
  const d = l.decide(0, { soc: 90, autonomyD: 1.2 });
  assert.equal(d.state, 'alarm-camera');
  assert.match(d.reason ?? '', /autonomy 1.2 d below 2 d/);
});

test('modem windows open on the hour for ten minutes; presence promises the next window', () => {
  const lim = RUNG_LIMITS['scheduled-modem'];
  assert.equal(modemUp(lim, 5 * 60_000), true);
  assert.equal(modemUp(lim, 15 * 60_000), false);
  assert.equal(modemUp(RUNG_LIMITS.full, 15 * 60_000), true);
  assert.equal(nextContactBy(lim, 15 * 60_000), 70 * 60_000);
});
