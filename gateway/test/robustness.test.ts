import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { type Alarm, encodeUplink, filters, topics } from '@shouwang/protocol';
import { connect, metricsText, nextMessage, startGateway, waitFor } from './helpers.ts';
import { connectPacket, rawSocket, subscribePacket } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc', flows: 'svc2' } };

test('a packet announcing more than the size limit is cut off from its header alone', async (t) => {
  const gw = await startGateway(t, creds);
  const s = await rawSocket(gw.mqttPort);
  t.after(() => s.destroy());
  s.write(connectPacket('hrb-001', 'hrb-001', 'pw-1'));
  await once(s, 'data'); // CONNACK
  // A PUBLISH header claiming 100 MB, then a trickle of body: the gateway must not wait for it.
  s.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x30]));
  s.write(Buffer.alloc(1000, 0x41));
  await once(s, 'close');
  assert.match(await metricsText(gw), /reason="packet-too-large"\} 1/);
  await connect(t, gw.url, 'hrb-002', 'pw-2'); // still serving
});

test('a malformed remaining-length is cut off; garbage before CONNECT does not crash the broker', async (t) => {
  const gw = await startGateway(t, creds);
  const bad = await rawSocket(gw.mqttPort);
  bad.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]));
  await once(bad, 'close');
  const junk = await rawSocket(gw.mqttPort);
  junk.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await once(junk, 'close');
  assert.match(await metricsText(gw), /reason="packet-malformed"\} 1/);
  await connect(t, gw.url, 'hrb-001', 'pw-1');
});

test('topics and filters deeper than the namespace are refused and counted before they reach the topic tree', async (t) => {
  const gw = await startGateway(t, creds);
  const deep = `sw/v1/${'x/'.repeat(4)}#`; // 7 levels: Aedes alone would allow 100
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  const refused = new Promise<void>((resolve) => fleet.once('close', () => resolve()));
  fleet.subscribe(deep, { qos: 0 });
  await refused;
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const cut = new Promise<void>((resolve) => unit.once('close', () => resolve()));
  unit.publish(`${topics.uplink('hrb-001', 'power')}/${'y/'.repeat(2)}z`, 'x', { qos: 0 });
  await cut;
  assert.match(await metricsText(gw), /rejects_total\{reason="topic-too-deep"\} 2/);
  const watcher = await connect(t, gw.url, 'flows', 'svc2', { clientId: 'flows' });
  await watcher.subscribeAsync(filters.allUplink('alarm'), { qos: 0 });
  const other = await connect(t, gw.url, 'hrb-002', 'pw-2');
  const got = nextMessage(watcher, (tp) => tp === topics.uplink('hrb-002', 'alarm'));
  const alarm: Alarm = { seq: 1, ts: 1_763_856_000_000, id: 'tilt-1', kind: 'tilt', severity: 'major', state: 'raised' };
  other.publish(topics.uplink('hrb-002', 'alarm'), Buffer.from(encodeUplink('alarm', alarm)), { qos: 0 });
  await got;
});

test('a frozen subscriber (a stalled satellite link) does not stall delivery to everyone else', async (t) => {
  const gw = await startGateway(t, creds, { config: { broker: { drainTimeoutMs: 500, concurrency: 100 } } });
  // The frozen one subscribes and then never reads its socket again.
  const frozen = await rawSocket(gw.mqttPort);
  t.after(() => frozen.destroy());
  frozen.write(connectPacket('flows', 'flows', 'svc2'));
  frozen.write(subscribePacket(filters.allUplink('telemetry'), 0));
  await once(frozen, 'data');
  frozen.pause();
  const healthy = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await healthy.subscribeAsync(filters.allUplink('telemetry'), { qos: 0 });
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const N = 600;
  let received = 0;
  const all = new Promise<void>((resolve) =>
    healthy.on('message', () => {
      if (++received === N) resolve();
    }),
  );
  // ~16 KB each: far more than the frozen socket's kernel buffers can absorb.
  const series = { v: Array.from({ length: 1800 }, (_, i) => i) };
  for (let seq = 1; seq <= N; seq++) {
    const body = Buffer.from(encodeUplink('telemetry', { seq, ts: 1_763_856_000_000, periodMs: 1000, series }));
    unit.publish(topics.uplink('hrb-001', 'telemetry'), body, { qos: 0 });
  }
  await all;
  assert.equal(received, N);
  // The frozen one was cut, and that is counted.
  await waitFor(async () => (await metricsText(gw)).includes('rejects_total{reason="drain-timeout"} 1'), 5000, 'the cut counted');
});

test('a reconnect storm: hundreds of units at once all get back in, none locked out', async (t) => {
  const units = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`storm-${i}`, `pw-${i}`]));
  const gw = await startGateway(t, { units, services: { fleet: 'svc' } });
  const clients = await Promise.all(Object.entries(units).map(([id, pw]) => connect(t, gw.url, id, pw)));
  assert.equal(clients.filter((c) => c.connected).length, 300);
  // Every unit drops and comes back at the same moment: verified secrets are cached, so no scrypt storm.
  for (const c of clients) c.stream.destroy();
  const again = await Promise.all(Object.entries(units).map(([id, pw]) => connect(t, gw.url, id, pw)));
  assert.equal(again.filter((c) => c.connected).length, 300);
  assert.doesNotMatch(await metricsText(gw), /auth_failures_total\{/, 'no login was refused');
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.allUplink('presence'));
  const got = nextMessage(fleet, (tp) => tp === topics.uplink('storm-7', 'presence'));
  await again[7]?.publishAsync(topics.uplink('storm-7', 'presence'), Buffer.from(encodeUplink('presence', { state: 'online', ts: 1 })));
  await got;
});

test('handshakes taken one at a time: refused logins and sockets gone mid-queue leave no slot taken', async (t) => {
  const gw = await startGateway(t, creds, { config: { broker: { maxConcurrentHandshakes: 1 } } });
  // Twenty at once: wrong passwords, sockets that close right after CONNECT, and good logins.
  const socks = await Promise.all(Array.from({ length: 20 }, () => rawSocket(gw.mqttPort)));
  t.after(() => {
    for (const s of socks) s.destroy();
  });
  const connacks = socks.map((s, i) => {
    const good = i % 3 === 0;
    const unit = good ? 'hrb-001' : 'hrb-002';
    s.write(connectPacket(unit, unit, good ? 'pw-1' : 'wrong'));
    if (i % 3 === 1) {
      s.destroy();
      return Promise.resolve(undefined);
    }
    return once(s, 'data').then(([d]) => (d as Buffer)[3]);
  });
  const codes = await Promise.all(connacks);
  // Each good login got CONNACK 0 in its turn (each taking over the one before), each bad one 4 or 5
  // (3 once the identity's failures from this address reach the limit).
  assert.deepEqual(
    codes.filter((c, i) => i % 3 === 0 && c !== undefined),
    Array(7).fill(0),
  );
  assert.ok(codes.filter((_c, i) => i % 3 === 2).every((c) => c === 3 || c === 4 || c === 5));
  // Every slot came back: a unit still gets in, and nothing waits.
  await connect(t, gw.url, 'hrb-001', 'pw-1');
  assert.match(await metricsText(gw), /shouwang_gateway_handshakes_waiting 0/);
});
