import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedMessage, Power } from '@shouwang/protocol';
import { applyMessage, emptyUnit } from '../src/domain/unit-state.ts';

const power = (ts: number, soc: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'power',
  payload: { seq: ts, ts, soc, batteryV: 13, solarW: 0, windW: 0, loadW: 5, state: 'full' } satisfies Power,
});
const presence = (state: 'online' | 'offline', ts: number): DecodedMessage => ({
  unitId: 'hrb-001',
  type: 'uplink',
  kind: 'presence',
  payload: { state, ts },
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
