import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toPoints } from '../src/domain/points.ts';

test('a digest lands in the power, location and link series at its event time', () => {
  const ts = 1_763_856_000_000;
  const points = toPoints('hrb-001', 'digest', {
    seq: 9,
    ts,
    power: { soc: 12.5, batteryV: 12.4, solarW: 0, windW: 3.2, loadW: 1.1, state: 'satellite-digest' },
    location: { lat: 45.75, lon: 126.6, fix: '3d' },
    alarms: [{ id: 'tamper:t5a8v2', kind: 'tamper', severity: 'critical', since: ts - 60_000 }],
    alarmsMore: 1,
  });
  assert.deepEqual(
    points.map((p) => [p.measurement, p.timestamp, p.tags.unit]),
    [
      ['power', ts, 'hrb-001'],
      ['location', ts, 'hrb-001'],
    ],
  );
  assert.equal(points[0]?.fields.openAlarms, 2);
  assert.equal(points[0]?.fields.state, 'satellite-digest');
  assert.equal(points[1]?.fields.lat, 45.75);
});

test('a telemetry batch becomes one point per sample, skipping gaps', () => {
  const points = toPoints('hrb-001', 'telemetry', { seq: 1, ts: 1000, periodMs: 10, series: { a: [1, 2], b: [5] } });
  assert.deepEqual(
    points.map((p) => [p.timestamp, p.fields]),
    [
      [1000, { a: 1, b: 5 }],
      [1010, { a: 2 }],
    ],
  );
});
