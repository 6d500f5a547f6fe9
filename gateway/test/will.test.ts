/**
 * Wills: checked in full at CONNECT, authorised against their owner whenever they are published,
 * and no stored message — a Will from an older gateway, a retained or queued message with a QoS
 * mqtt-packet cannot write — can disconnect the subscribers it matches.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import { connect, metricsText, nextMessage, startGateway, type TestGateway, waitFor } from './helpers.ts';
import { closed, connectPacket, rawSocket, reply } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } };
const offline = Buffer.from(encodeUplink('presence', { state: 'offline', ts: 1_763_856_000_000 }));
const online = (id: string) => Buffer.from(encodeUplink('presence', { state: 'online', ts: 1_763_856_000_000, agent: id }));

type Persistence = {
  storeRetained(p: object): Promise<void>;
  putWill(client: { id: string }, p: object): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string; topic: string; qos: number }[], p: object): Promise<void>;
};
const persistenceOf = (gw: TestGateway) => (gw.gateway.broker as unknown as { persistence: Persistence }).persistence;

/** A service subscribed as the fleet subscribes (a wildcard over every unit's presence); counts its closes. */
async function fleetWatcher(
  t: Parameters<typeof connect>[0],
  gw: TestGateway,
  qos: 0 | 1 = 1,
): Promise<{ c: MqttClient; closes: () => number }> {
  const c = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  let closes = 0;
  c.on('close', () => closes++);
  await c.subscribeAsync(filters.allUplink('presence'), { qos });
  return { c, closes: () => closes };
}

test('[MQTT-3.1.2-14] a Will with QoS 3 is refused at CONNECT: connection closed, no CONNACK, nothing stored', async (t) => {
  const gw = await startGateway(t, creds);
  const s = await rawSocket(gw.mqttPort);
  t.after(() => s.destroy());
  s.write(
    connectPacket('hrb-001', 'hrb-001', 'pw-1', {
      will: { topic: topics.uplink('hrb-001', 'presence'), payload: offline, qos: 3, retain: true },
    }),
  );
  assert.equal(await reply(s), 'closed');
  assert.match(await metricsText(gw), /rejects_total\{reason="connect-will-qos"\} 1/);
  // Nothing was retained: the fleet's wildcard subscription stays up and hears the unit come online.
  const fleet = await fleetWatcher(t, gw);
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const got = nextMessage(fleet.c, (tp) => tp === topics.uplink('hrb-001', 'presence'));
  await unit.publishAsync(topics.uplink('hrb-001', 'presence'), online('hrb-001'), { qos: 1, retain: true });
  assert.equal(JSON.parse((await got).payload.toString()).state, 'online');
  assert.equal(fleet.closes(), 0);
});

test("a Will outside the unit's own subtree, or whose payload fails the topic's schema, is refused with CONNACK 5", async (t) => {
  const gw = await startGateway(t, creds);
  const cases = [
    { topic: topics.uplink('hrb-002', 'presence'), payload: offline, reason: 'will-acl' },
    { topic: topics.request('hrb-002', 'ping'), payload: offline, reason: 'will-acl' },
    { topic: topics.uplink('hrb-001', 'presence'), payload: Buffer.from('{"state":"gone"}'), reason: 'will-payload' },
  ];
  for (const c of cases) {
    const s = await rawSocket(gw.mqttPort);
    t.after(() => s.destroy());
    s.write(connectPacket('hrb-001', 'hrb-001', 'pw-1', { will: { topic: c.topic, payload: c.payload, qos: 1, retain: true } }));
    const answer = await reply(s);
    assert.ok(Buffer.isBuffer(answer), `${c.topic}: expected a CONNACK`);
    assert.deepEqual([...answer.subarray(0, 4)], [0x20, 0x02, 0x00, 0x05], c.topic);
    await closed(s);
  }
  const m = await metricsText(gw);
  assert.match(m, /auth_failures_total\{reason="will-acl"\} 2/);
  assert.match(m, /auth_failures_total\{reason="will-payload"\} 1/);
});

test('a unit with a valid Will still gets in, and its Will is published on its own presence when its link dies', async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await fleetWatcher(t, gw);
  const s = await rawSocket(gw.mqttPort);
  s.write(
    connectPacket('hrb-001', 'hrb-001', 'pw-1', {
      will: { topic: topics.uplink('hrb-001', 'presence'), payload: offline, qos: 1, retain: true },
    }),
  );
  const answer = await reply(s);
  assert.ok(Buffer.isBuffer(answer));
  assert.deepEqual([...answer.subarray(0, 4)], [0x20, 0x02, 0x00, 0x00]);
  const got = nextMessage(fleet.c, (tp) => tp === topics.uplink('hrb-001', 'presence'));
  s.destroy();
  assert.equal(JSON.parse((await got).payload.toString()).state, 'offline');
});

test('a stored retained message with QoS 3 (left in the store by a broker without this check) does not disconnect the wildcard subscribers it matches', async (t) => {
  const gw = await startGateway(t, creds);
  await persistenceOf(gw).storeRetained({
    cmd: 'publish',
    topic: topics.uplink('hrb-001', 'presence'),
    payload: offline,
    qos: 3,
    retain: true,
    brokerId: 'old-node',
    brokerCounter: 1,
  });
  const fleet = await fleetWatcher(t, gw);
  // Every other unit's messages keep arriving, on the same connection.
  const unit = await connect(t, gw.url, 'hrb-002', 'pw-2');
  for (let i = 0; i < 3; i++) {
    const got = nextMessage(fleet.c, (tp) => tp === topics.uplink('hrb-002', 'presence'));
    await unit.publishAsync(topics.uplink('hrb-002', 'presence'), online('hrb-002'), { qos: 1, retain: true });
    await got;
  }
  assert.equal(fleet.closes(), 0, 'the fleet was disconnected');
  assert.match(await metricsText(gw), /rejects_total\{reason="undeliverable"\} 1/);
});

test('a queued message with QoS 3 for an offline persistent session is dropped at reconnect, not written', async (t) => {
  const gw = await startGateway(t, creds);
  const first = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet', clean: false });
  await first.subscribeAsync(filters.allUplink('presence'), { qos: 1 });
  await first.endAsync();
  await persistenceOf(gw).outgoingEnqueueCombi([{ clientId: 'fleet', topic: filters.allUplink('presence'), qos: 1 }], {
    cmd: 'publish',
    topic: topics.uplink('hrb-001', 'presence'),
    payload: offline,
    qos: 3,
    retain: false,
    brokerId: 'old-node',
    brokerCounter: 7,
  });
  const back = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet', clean: false });
  let closes = 0;
  back.on('close', () => closes++);
  const unit = await connect(t, gw.url, 'hrb-002', 'pw-2');
  const got = nextMessage(back, (tp) => tp === topics.uplink('hrb-002', 'presence'));
  await unit.publishAsync(topics.uplink('hrb-002', 'presence'), online('hrb-002'), { qos: 1 });
  await got;
  assert.equal(closes, 0);
  assert.match(await metricsText(gw), /rejects_total\{reason="undeliverable"\} 1/);
});

test("a stored Will is published only inside its owner's subtree: one stamped for another unit, or not stamped, goes nowhere", async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gw-wills-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  // A node that is gone, leaving Wills in the store as a crash (or an older gateway) leaves them:
  // hrb-002's Will on hrb-001's presence (stamped with its real owner), one with no stamp at all
  // on the same topic, and a legitimate one.
  const dead = await startGateway(t, creds, { config: { dataDir } });
  const will = (topic: string, extra: object) => ({ cmd: 'publish', topic, payload: offline, qos: 1, retain: true, ...extra });
  const p = persistenceOf(dead);
  await p.putWill({ id: 'hrb-002' }, will(topics.uplink('hrb-001', 'presence'), { shouwangOwner: 'unit:hrb-002' }));
  await p.putWill({ id: 'hrb-003' }, will(topics.uplink('hrb-001', 'presence'), {}));
  await p.putWill({ id: 'hrb-004' }, will(topics.uplink('hrb-004', 'presence'), { shouwangOwner: 'unit:hrb-004' }));
  await dead.gateway.close();

  // The next node on the same store sweeps the dead node's Wills after four heartbeats.
  const gw = await startGateway(t, creds, { config: { dataDir, broker: { heartbeatIntervalMs: 100 } } });
  const fleet = await fleetWatcher(t, gw, 1);
  const seen: string[] = [];
  fleet.c.on('message', (tp, payload) => seen.push(`${tp} ${JSON.parse(payload.toString()).state}`));
  await nextMessage(fleet.c, (tp) => tp === topics.uplink('hrb-004', 'presence'), 10_000);
  await waitFor(async () => /rejects_total\{reason="will-acl"\} 2/.test(await metricsText(gw)), 10_000);
  assert.deepEqual(
    seen.filter((l) => l.startsWith(topics.uplink('hrb-001', 'presence'))),
    [],
  );
  // Nor was anything retained there: a new subscriber to hrb-001's presence gets nothing retained.
  const late = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'late' });
  const retained = nextMessage(late, (tp) => tp === topics.uplink('hrb-001', 'presence'), 500);
  await late.subscribeAsync(topics.uplink('hrb-001', 'presence'), { qos: 1 });
  await assert.rejects(retained, /no message/);
});
