import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Link, Location, Power } from '@shouwang/protocol';
import { addSample, distanceMeters, linkOutlook, locationOutlook, powerOutlook, socTrend } from '../src/domain/outlook.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 10, 16); // the 16th: half of a 30-day month has passed
const power = (ts: number, soc: number, extra: Partial<Power> = {}): Power => ({
  seq: 1,
  ts,
  soc,
  batteryV: 12.9,
  solarW: 0,
  windW: 0,
  loadW: 5,
  state: 'full',
  ...extra,
});
const fix = (lat: number, lon: number, extra: Partial<Location> = {}): Location => ({ seq: 1, ts: T0, lat, lon, fix: '3d', ...extra });

test('trend follows event time, so a back-filled burst slots in and does not bend it', () => {
  let s = addSample([], { ts: T0 + 3 * HOUR, soc: 70 });
  for (const [h, soc] of [
    [0, 100],
    [2, 80],
    [1, 90],
  ] as const)
    s = addSample(s, { ts: T0 + h * HOUR, soc });
  assert.deepEqual(
    s.map((x) => x.soc),
    [100, 90, 80, 70],
  );
  assert.ok(Math.abs((socTrend(s) ?? 0) + 10) < 1e-9);
  assert.equal(socTrend(s.slice(0, 1)), null, 'one reading has no trend');
});

test('time to empty: the unit’s own forecast wins; otherwise the trend; none while charging', () => {
  const now = T0 + 2 * HOUR;
  const own = powerOutlook(power(T0, 50, { timeToEmptyH: 30, autonomyD: 1.5 }), -10, now);
  assert.equal(own.timeToEmptyH, 28, 'counted from now, not from the reading');
  assert.equal(own.autonomyD, 1.5);
  const fromTrend = powerOutlook(power(T0, 50), -5, now);
  assert.equal(fromTrend.timeToEmptyH, 8);
  assert.equal(fromTrend.emptyAt, T0 + 10 * HOUR);
  assert.ok(Math.abs((fromTrend.autonomyD ?? 0) - 8 / 24) < 1e-9);
  assert.equal(powerOutlook(power(T0, 50), 3, now).timeToEmptyH, null);
});

test('distance from the deployment point and movement', () => {
  const site = { lat: 45.75, lon: 126.65 };
  // 0.01° of latitude is ~1,112 m anywhere.
  const away = locationOutlook(fix(45.76, 126.65), fix(45.7599, 126.65), site);
  assert.ok(Math.abs((away.distanceM ?? 0) - 1112) < 2, `${away.distanceM}`);
  assert.equal(away.moving, false, '11 m between fixes is GNSS noise');
  assert.equal(locationOutlook(fix(45.76, 126.65), fix(45.759, 126.65), site).moving, true);
  assert.equal(locationOutlook(fix(45.76, 126.65, { speedMps: 1.2 }), null, site).moving, true);
  assert.equal(locationOutlook(fix(45.76, 126.65, { fix: 'none' }), null, site).distanceM, null);
  assert.equal(Math.round(distanceMeters({ lat: 45.75, lon: 126.6 }, { lat: 45.75, lon: 126.7 })), 7759);
});

test('bytes this month are projected to the month end and held against the budget', () => {
  // Half-way through November (30 days), 1.5 MB used: 3 MB by the month's end.
  const link: Link = { seq: 1, ts: Date.UTC(2025, 10, 16), type: 'lte', rssiDbm: -80, bars: 4, bytesMonth: 1_500_000 };
  assert.deepEqual(linkOutlook(link), {
    bytesMonth: 1_500_000,
    bytesMonthForecast: 3_000_000,
    budgetBytes: 30_000_000,
    budgetHoursLeft: null,
  });
  // A 2 MB plan runs out 0.5 MB later, at 1.5 MB per 15 days: in 5 days.
  assert.equal(linkOutlook(link, 2_000_000).budgetHoursLeft, 5 * 24);
  assert.equal(linkOutlook({ ...link, bytesMonth: 2_500_000 }, 2_000_000).budgetHoursLeft, 0, 'already spent');
  assert.equal(
    linkOutlook({ ...link, type: 'satellite', bytesMonth: 1_000 }).budgetBytes,
    204_000,
    'satellite default: 30 days of SBD budget',
  );
  assert.deepEqual(linkOutlook({ ...link, bytesMonth: undefined }).bytesMonthForecast, null);
});
