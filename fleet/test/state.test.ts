import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedMessage, Power } from '@shouwang/protocol';
import { applyMessage, emptyUnit } from '../src/domain/unit-state.ts';

const powerAt = (ts: number, soc: number): Power => ({ seq: ts, ts, soc, batteryV: 13, solarW: 0, windW: 0, loadW: 5, state: 'full' });
const power = (ts: number, soc: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'power',
  payload: powerAt(ts, soc),
});
const presence = (state: 'online' | 'offline', ts: number, nextContactBy?: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'presence',
  payload: { state, ts, ...(nextContactBy === undefined ? {} : { nextContactBy }) },
});

test('latest means newest event time: a back-filled burst does not overwrite a newer reading', () => {
  let u = applyMessage(emptyUnit('hrb-001'), power(5_000, 60), 10);
  for (const ts of [1_000, 2_000, 3_000]) u = applyMessage(u, power(ts, 90), 11);
  assert.equal(u.power?.soc, 60);
  assert.equal(u.lastSeen, 11, 'late readings are still a sign of life');
  u = applyMessage(u, power(6_000, 59), 12);
  assert.equal(u.power?.soc, 59);
});

test('presence follows arrival order: the will carries the connect time but arrives at death', () => {
  let u = applyMessage(emptyUnit('hrb-001'), presence('online', 1_000), 100);
  assert.equal(u.online, true);
  u = applyMessage(u, presence('offline', 1_000), 200);
  assert.equal(u.online, false);
  assert.equal(u.lastSeen, 100, 'the broker publishing a will is not the unit being seen');
});

const digest = (ts: number, soc: number, withFix: boolean, nextContactBy?: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'digest',
  payload: {
    seq: ts,
    ts,
    power: { soc, batteryV: 12.4, solarW: 0, windW: 2, loadW: 1, state: 'satellite-digest' },
    ...(withFix ? { location: { lat: 45.75, lon: 126.63, fix: '3d' as const } } : {}),
    link: { type: 'satellite', rssiDbm: -110, bars: 3, bytesMonth: 4_000 },
    alarms: [],
    ...(nextContactBy === undefined ? {} : { nextContactBy }),
  },
});

test('a satellite digest updates power, location and link like the separate messages, by event time', () => {
  let u = applyMessage(emptyUnit('hrb-001'), power(5_000, 60), 10);
  u = applyMessage(u, digest(9_000, 20, true), 11);
  assert.deepEqual([u.power?.soc, u.power?.ts, u.power?.state], [20, 9_000, 'satellite-digest']);
  assert.deepEqual([u.location?.lat, u.location?.fix, u.location?.ts], [45.75, '3d', 9_000]);
  assert.deepEqual([u.link?.type, u.link?.bytesMonth], ['satellite', 4_000]);
  // An older digest (back-filled) changes nothing; one without a fix keeps the last fix.
  const before = u;
  u = applyMessage(u, digest(8_000, 99, true), 12);
  assert.deepEqual([u.power, u.location, u.link], [before.power, before.location, before.link]);
  u = applyMessage(u, digest(10_000, 19, false), 13);
  assert.deepEqual([u.power?.soc, u.location?.ts], [19, 9_000]);
});

const event = (ts: number, to: string, soc?: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'event',
  payload: { seq: ts, ts, kind: 'power-state', from: 'full', to, reason: `full → ${to}`, ...(soc === undefined ? {} : { soc }) },
});
const telemetry = (ts: number, periodMs: number, soc: number[]): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'telemetry',
  payload: { seq: ts, ts, periodMs, series: { soc_pct: soc, load_dW: soc.map(() => 50) } },
});

test('charge and rung come from power-state events, low-battery alarms and telemetry too, by event time', () => {
  let u = applyMessage(emptyUnit('hrb-001'), power(5_000, 76), 10);
  u = applyMessage(u, event(7_000, 'alarm-camera', 56.7), 11);
  assert.deepEqual([u.power?.soc, u.power?.state, u.power?.ts], [56.7, 'alarm-camera', 7_000]);
  // The last sample of a batch is the newest charge: 8_000 + 2 × 1_000.
  u = applyMessage(u, telemetry(8_000, 1_000, [50, 45, 40]), 12);
  assert.deepEqual([u.power?.soc, u.power?.state, u.power?.ts], [40, 'alarm-camera', 10_000]);
  // Older news changes nothing; an event without a known rung or charge neither.
  u = applyMessage(u, event(6_000, 'full', 90), 13);
  u = applyMessage(u, telemetry(1_000, 1_000, [99]), 14);
  u = applyMessage(u, event(11_000, 'not-a-rung'), 15);
  assert.deepEqual([u.power?.soc, u.power?.state, u.power?.ts], [40, 'alarm-camera', 10_000]);
  u = applyMessage(u, event(12_000, 'scheduled-modem', 34.3), 16);
  assert.deepEqual(
    [u.power?.soc, u.power?.state, u.power?.loadW],
    [34.3, 'scheduled-modem', 5],
    'the other fields are the last full status',
  );
  // A low-battery alarm carries the charge that raised it; other alarms' values are not charges.
  const alarm = (ts: number, kind: 'low-battery' | 'tilt', value: number): DecodedMessage => ({
    unitId: 'hrb-001',
    type: 'uplink',
    kind: 'alarm',
    payload: { seq: ts, ts, id: `${kind}:${ts}`, kind, severity: 'major', state: 'raised', value },
  });
  u = applyMessage(u, alarm(13_000, 'low-battery', 14.2), 17);
  u = applyMessage(u, alarm(14_000, 'tilt', 35), 18);
  assert.deepEqual([u.power?.soc, u.power?.ts], [14.2, 13_000]);
  // The unit's own forecast keeps its empty time: 10 h at 5_000 is 10 h − 7 s at 12_000.
  const forecast: DecodedMessage = {
    unitId: 'hrb-001',
    type: 'uplink',
    kind: 'power',
    payload: { ...powerAt(5_000, 76), timeToEmptyH: 10 },
  };
  let f = applyMessage(emptyUnit('hrb-001'), forecast, 1);
  f = applyMessage(f, event(12_000, 'alarm-camera', 56), 2);
  assert.equal(f.power?.timeToEmptyH, 10 - 7_000 / 3_600_000);
});

test('the newest promise by event time stands: a digest makes one; a will composed at the connect does not undo it', () => {
  let u = applyMessage(emptyUnit('hrb-001'), presence('online', 1_000, 2_000), 100);
  u = applyMessage(u, digest(5_000, 20, false, 50_000), 101);
  assert.equal(u.presence?.nextContactBy, 50_000);
  u = applyMessage(u, presence('offline', 1_000, 2_000), 102);
  assert.equal(u.online, false);
  assert.equal(u.presence?.nextContactBy, 50_000, 'the will is older than the digest');
  u = applyMessage(u, presence('offline', 6_000, 9_000), 103);
  assert.equal(u.presence?.nextContactBy, 9_000, 'a newer goodbye makes the new promise');
});
