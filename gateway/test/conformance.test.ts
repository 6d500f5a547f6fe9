/**
 * The MQTT 3.1.1 normative statements the gateway enforces, one test each, named by clause
 * (OASIS MQTT Version 3.1.1, 29 October 2014), with raw bytes where the statement is about bytes.
 * Aedes 1.2 and mqtt-packet 9 alone get the ones marked (†) wrong; the gateway's CONNECT check,
 * packet scanner and delivery hook (src/domain/connect-check.ts, packet-scanner.ts, broker.ts)
 * bring them in line. Elsewhere: [MQTT-3.1.2-14] in will.test.ts, [MQTT-3.1.3-8] in auth.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRequest, encodeUplink, filters, topics } from '@shouwang/protocol';
import { defer } from '@shouwang/testkit';
import { connect, metricsText, startGateway, type TestGateway } from './helpers.ts';
import { connectPacket, packet, packetReader, rawSocket, reply, str, subscribePacket } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } };
const presence = topics.uplink('hrb-001', 'presence');
const offline = Buffer.from(encodeUplink('presence', { state: 'offline', ts: 1_763_856_000_000 }));
const CONNACK_OK = [0x20, 0x02, 0x00, 0x00];

/** Sends `bytes` on a fresh connection; resolves with the first answer (or `closed`) and the gateway's refusal counts. */
async function answerTo(t: Parameters<typeof startGateway>[0], gw: TestGateway, ...bytes: Buffer[]): Promise<Buffer | 'closed'> {
  const s = await rawSocket(gw.mqttPort);
  defer(t, () => s.destroy());
  for (const b of bytes) s.write(b);
  return reply(s);
}

/** A raw session logged in as `id`, its CONNACK read; `next` reads the packets that follow. */
async function session(t: Parameters<typeof startGateway>[0], gw: TestGateway, id: string, pw: string, clean = true) {
  const s = await rawSocket(gw.mqttPort);
  defer(t, () => s.destroy());
  const r = packetReader(s);
  s.write(connectPacket(id, id, pw, clean));
  const connack = [...((await r.next()) as Buffer)];
  assert.deepEqual([connack[0], connack[1], connack[3]], [0x20, 0x02, 0x00], 'CONNACK 0 (session present or not)');
  return { s, next: r.next };
}

async function refused(gw: TestGateway, reason: string): Promise<void> {
  assert.match(await metricsText(gw), new RegExp(`rejects_total\\{reason="${reason}"\\} 1`));
}

test('[MQTT-3.1.2-2] (†) an unsupported protocol level gets CONNACK 0x01, then the connection is closed', async (t) => {
  const gw = await startGateway(t, creds);
  for (const level of [5, 6, 2]) {
    const answer = await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { level }));
    assert.ok(Buffer.isBuffer(answer), `level ${level}: no CONNACK`);
    assert.deepEqual([...answer.subarray(0, 4)], [0x20, 0x02, 0x00, 0x01], `level ${level}`);
  }
  assert.match(await metricsText(gw), /rejects_total\{reason="connect-protocol-level"\} 3/);
});

test('[MQTT-3.1.2-1] (†) a protocol name that is not the one of its level (MQIsdp at level 4, or unknown) is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  assert.equal(await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { protocolName: 'MQIsdp', level: 4 })), 'closed');
  assert.equal(await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { protocolName: 'MQTX', level: 4 })), 'closed');
  assert.match(await metricsText(gw), /rejects_total\{reason="connect-protocol-name"\} 2/);
  // MQTT 3.1's own name and level still work.
  const ok = await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { protocolName: 'MQIsdp', level: 3 }));
  assert.ok(Buffer.isBuffer(ok));
  assert.deepEqual([...ok.subarray(0, 4)], CONNACK_OK);
});

test('[MQTT-3.1.2-3] a CONNECT with the reserved flag set is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const bytes = connectPacket('hrb-001', 'hrb-001', 'pw-1');
  bytes[9] = (bytes[9] as number) | 0x01; // connect flags: 2 header + 6 name + 1 level
  assert.equal(await answerTo(t, gw, bytes), 'closed');
  await refused(gw, 'connect-reserved-flag');
});

test('[MQTT-1.5.3-1] (†) a Will Topic or Client Identifier that is not well-formed UTF-8 is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const badUtf8 = Buffer.concat([Buffer.from('sw/v1/hrb-001/'), Buffer.from([0xc3, 0x28])]);
  assert.equal(
    await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { will: { topic: badUtf8, payload: offline, qos: 1 } })),
    'closed',
  );
  // An encoded UTF-16 surrogate (U+D800) is ill-formed too.
  const surrogate = Buffer.concat([Buffer.from('sw/v1/hrb-001/'), Buffer.from([0xed, 0xa0, 0x80])]);
  assert.equal(
    await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { will: { topic: surrogate, payload: offline, qos: 1 } })),
    'closed',
  );
  assert.match(await metricsText(gw), /rejects_total\{reason="connect-utf8"\} 2/);
});

test('[MQTT-1.5.3-2] a UTF-8 string holding U+0000 is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  assert.equal(
    await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { will: { topic: `${presence}\u0000`, payload: offline, qos: 1 } })),
    'closed',
  );
  await refused(gw, 'connect-utf8');
});

test('[MQTT-4.7.1-1] (†) a Will Topic with a wildcard is disconnected: a topic name carries none', async (t) => {
  const gw = await startGateway(t, creds);
  assert.equal(
    await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { will: { topic: 'sw/v1/+/presence', payload: offline, qos: 1 } })),
    'closed',
  );
  await refused(gw, 'connect-will-topic');
});

test('[MQTT-3.1.2-22] a password without a user name is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const body = Buffer.concat([str('MQTT'), Buffer.from([0x04, 0x42, 0x00, 0x3c]), str('hrb-001'), str('pw-1')]);
  assert.equal(await answerTo(t, gw, packet(0x10, body)), 'closed');
  await refused(gw, 'connect-password-flag');
});

test('[MQTT-4.8.0-1] (†) a CONNECT with bytes past its last field (a lying Remaining Length) is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  assert.equal(await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { trailing: Buffer.from([0x00, 0x00, 0x41]) })), 'closed');
  await refused(gw, 'connect-trailing-bytes');
});

test('[MQTT-3.1.0-1] a first packet other than CONNECT is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  assert.equal(await answerTo(t, gw, subscribePacket(filters.allUplink('presence'), 0)), 'closed');
  await refused(gw, 'packet-before-connect');
});

test('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const { s, next } = await session(t, gw, 'hrb-001', 'pw-1');
  s.write(connectPacket('hrb-001', 'hrb-001', 'pw-1'));
  assert.equal(await next(), 'closed');
  await refused(gw, 'duplicate-connect');
});

test('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const { s, next } = await session(t, gw, 'hrb-001', 'pw-1');
  s.write(packet(0x36, Buffer.concat([str(presence), Buffer.from([0x00, 0x01]), offline])));
  assert.equal(await next(), 'closed');
  await refused(gw, 'publish-qos3');
});

test('[MQTT-3.3.2-2] a PUBLISH whose topic holds a wildcard is disconnected (counted)', async (t) => {
  const gw = await startGateway(t, creds);
  const { s, next } = await session(t, gw, 'hrb-001', 'pw-1');
  s.write(packet(0x30, Buffer.concat([str('sw/v1/hrb-001/+'), offline])));
  assert.equal(await next(), 'closed');
  await refused(gw, 'publish-wildcard');
});

test('[MQTT-3.8.3-3] a SUBSCRIBE with no Topic Filter is disconnected', async (t) => {
  const gw = await startGateway(t, creds);
  const { s, next } = await session(t, gw, 'fleet', 'svc');
  s.write(packet(0x82, Buffer.from([0x00, 0x01])));
  assert.equal(await next(), 'closed');
  await refused(gw, 'subscribe-empty');
});

test('[MQTT-3.10.3-2] (†) an UNSUBSCRIBE with no Topic Filter is disconnected, not answered with UNSUBACK', async (t) => {
  const gw = await startGateway(t, creds);
  const { s, next } = await session(t, gw, 'fleet', 'svc');
  s.write(packet(0xa2, Buffer.from([0x00, 0x01])));
  assert.equal(await next(), 'closed');
  await refused(gw, 'unsubscribe-empty');
});

test('[MQTT-3.2.2-6] (†) a keep-alive of 0 or above the limit is not answered with the undefined CONNACK 6: clamped to the limit and counted', async (t) => {
  const gw = await startGateway(t, creds, { config: { broker: { keepaliveLimitS: 1 } } });
  for (const keepalive of [0, 120]) {
    const answer = await answerTo(t, gw, connectPacket('hrb-001', 'hrb-001', 'pw-1', { keepalive }));
    assert.ok(Buffer.isBuffer(answer));
    assert.deepEqual([...answer.subarray(0, 4)], CONNACK_OK, `keep-alive ${keepalive}`);
  }
  assert.match(await metricsText(gw), /clamped_total\{reason="keepalive-clamped"\} 2/);
  // [MQTT-3.1.2-24] then holds at the limit: a silent connection is closed after 1.5 × 1 s.
  const silent = await rawSocket(gw.mqttPort);
  defer(t, () => silent.destroy());
  silent.write(connectPacket('hrb-002', 'hrb-002', 'pw-2', { keepalive: 0 }));
  const r = packetReader(silent);
  assert.deepEqual([...((await r.next()) as Buffer)], CONNACK_OK);
  assert.equal(await r.next(5000), 'closed');
});

test('[MQTT-3.3.1-1] (†) a QoS 1 message redelivered to a resumed session goes out with DUP=1', async (t) => {
  const gw = await startGateway(t, creds);
  const first = await session(t, gw, 'hrb-001', 'pw-1', false);
  first.s.write(subscribePacket(filters.unitRequests('hrb-001'), 1));
  assert.equal(((await first.next()) as Buffer)[0], 0x90); // SUBACK
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.publishAsync(topics.request('hrb-001', 'ping'), Buffer.from(encodeRequest('ping', { id: 'p-1', args: {} })), { qos: 1 });
  const sent = (await first.next()) as Buffer;
  assert.equal(sent[0], 0x32, 'first delivery: PUBLISH, QoS 1, DUP=0');
  first.s.destroy(); // never acknowledged
  const again = await session(t, gw, 'hrb-001', 'pw-1', false);
  const resent = (await again.next()) as Buffer;
  assert.equal(resent[0], 0x3a, 'redelivery: PUBLISH, QoS 1, DUP=1');
  assert.deepEqual(resent.subarray(2), sent.subarray(2), 'same packet identifier and payload');
});

test('[MQTT-3.8.4-6] (†) a retained message reaches a wildcard subscription granted QoS 0 as QoS 0', async (t) => {
  const gw = await startGateway(t, creds);
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  await unit.publishAsync(presence, offline, { qos: 1, retain: true });
  const fleet = await session(t, gw, 'fleet', 'svc');
  fleet.s.write(subscribePacket(filters.allUplink('presence'), 0));
  assert.deepEqual([...((await fleet.next()) as Buffer)], [0x90, 0x03, 0x00, 0x01, 0x00]);
  const retained = (await fleet.next()) as Buffer;
  assert.equal(retained[0], 0x31, 'PUBLISH, QoS 0, RETAIN');
  // And live, a QoS 1 message on a QoS 0 wildcard subscription goes out at QoS 0.
  await unit.publishAsync(presence, offline, { qos: 1 });
  assert.equal(((await fleet.next()) as Buffer)[0], 0x30);
});
