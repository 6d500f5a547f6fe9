import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, filters, kindOfAcceptedTopic, parseTopic, topics, UPLINK_KINDS, unitAcl } from '@shouwang/protocol';

test('builders and parser agree', () => {
  assert.equal(topics.uplink('hrb-001', 'power'), 'sw/v1/hrb-001/power');
  assert.deepEqual(parseTopic('sw/v1/hrb-001/power'), { ok: true, value: { unitId: 'hrb-001', type: 'uplink', kind: 'power' } });
  assert.deepEqual(parseTopic(topics.request('hrb-001', 'ping')), {
    ok: true,
    value: { unitId: 'hrb-001', type: 'request', command: 'ping' },
  });
  assert.equal(filters.allUplink('alarm'), 'sw/v1/+/alarm');
});

test('the fast kind read agrees with the parser on every topic the builders make', () => {
  for (const kind of UPLINK_KINDS) assert.equal(kindOfAcceptedTopic(topics.uplink('hrb-001', kind)), kind);
  assert.equal(kindOfAcceptedTopic(topics.request('hrb-001', 'ping')), 'request');
  assert.equal(kindOfAcceptedTopic(topics.response('hrb-001', 'ping')), 'response');
  assert.equal(kindOfAcceptedTopic('$SYS/broker/uptime'), undefined);
});

test('builders refuse ids that would escape the unit subtree', () => {
  for (const bad of ['', '+', '#', 'a/b', 'UPPER', 'x'.repeat(40), '-lead']) assert.throws(() => topics.uplink(bad, 'power'));
});

test('parser rejects foreign, deep, long and unknown topics with a code', () => {
  const cases: [string, string][] = [
    ['other/v1/hrb-001/power', ErrorCode.Topic],
    ['sw/v2/hrb-001/power', ErrorCode.Topic],
    ['sw/v1/HRB/power', ErrorCode.Topic],
    ['sw/v1/hrb-001/nope', ErrorCode.Topic],
    ['sw/v1/hrb-001/req/format-disk', ErrorCode.Topic],
    ['sw/v1/hrb-001/power/x/y', ErrorCode.Topic],
    [`sw/v1/hrb-001/${'x'.repeat(200)}`, ErrorCode.TooLarge],
  ];
  for (const [t, code] of cases) {
    const r = parseTopic(t);
    assert.ok(!r.ok && r.error.code === code, t);
  }
});

test('unit ACL: own subtree only, no requests, no wildcards', () => {
  assert.ok(unitAcl.mayPublish('hrb-001', 'sw/v1/hrb-001/alarm'));
  assert.ok(unitAcl.mayPublish('hrb-001', 'sw/v1/hrb-001/res/ping'));
  assert.ok(!unitAcl.mayPublish('hrb-001', 'sw/v1/hrb-002/alarm'));
  assert.ok(!unitAcl.mayPublish('hrb-001', 'sw/v1/hrb-001/req/reboot'));
  assert.ok(!unitAcl.mayPublish('hrb-001', '$SYS/broker/uptime'));
  assert.ok(unitAcl.maySubscribe('hrb-001', 'sw/v1/hrb-001/req/+'));
  for (const f of ['#', 'sw/v1/#', 'sw/v1/+/req/+', 'sw/v1/hrb-002/req/+', '$SYS/#']) assert.ok(!unitAcl.maySubscribe('hrb-001', f), f);
});
