/** Topic matching (MQTT 3.1.1 §4.7.1) and the QoS a delivery goes out at ([MQTT-3.8.4-6], [MQTT-3.3.5-1]), without a broker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterMatches } from '../src/domain/filter-match.ts';
import { GrantedQos } from '../src/domain/granted-qos.ts';

test('§4.7.1.2–3 filters match by level: + one level, # this level and below, $ topics not by a leading wildcard', () => {
  const cases: [string, string, boolean][] = [
    ['sw/v1/+/presence', 'sw/v1/hrb-001/presence', true],
    ['sw/v1/+/presence', 'sw/v1/hrb-001/power', false],
    ['sw/v1/+/presence', 'sw/v1/hrb-001/presence/x', false],
    ['sw/v1/#', 'sw/v1', true], // '#' also matches the parent level
    ['sw/v1/#', 'sw/v1/hrb-001/req/ping', true],
    ['sw/v1/+/res/+', 'sw/v1/hrb-001/res/ping', true],
    ['sw/v1/hrb-001/presence', 'sw/v1/hrb-001/presence', true],
    ['+/v1/hrb-001/presence', 'sw/v1/hrb-001/presence', true],
    ['#', '$SYS/broker/heartbeat', false], // [MQTT-4.7.2-1]
    ['+/broker/heartbeat', '$SYS/broker/heartbeat', false],
    ['$SYS/#', '$SYS/broker/heartbeat', true],
    ['sw/+', 'sw/', true], // an empty level is a level
  ];
  for (const [filter, topic, expected] of cases) assert.equal(filterMatches(filter, topic), expected, `${filter} ~ ${topic}`);
});

test('a delivery goes out at the highest QoS granted by the matching subscriptions, never above the message', () => {
  const subs = new Map<object, Record<string, { qos: number }>>();
  const grants = new GrantedQos<object>((c) => subs.get(c) ?? {});
  const fleet = {};
  subs.set(fleet, { 'sw/v1/+/presence': { qos: 0 }, 'sw/v1/hrb-001/#': { qos: 1 } });
  assert.equal(grants.floor(fleet), 0);
  assert.equal(grants.forTopic(fleet, 'sw/v1/hrb-002/presence', 1), 0);
  assert.equal(grants.forTopic(fleet, 'sw/v1/hrb-001/presence', 2), 1, 'overlapping: the highest grant');
  assert.equal(grants.forTopic(fleet, 'sw/v1/hrb-001/presence', 0), 0, 'never above the message');
  // The floor is kept until the subscriptions change.
  subs.set(fleet, { 'sw/v1/+/presence': { qos: 1 } });
  assert.equal(grants.floor(fleet), 0);
  grants.changed(fleet);
  assert.equal(grants.floor(fleet), 1);
});
