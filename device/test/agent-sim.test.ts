/**
 * The whole agent on the simulator: it comes online and reports status that matches the
 * simulator's truth; answers ping; survives serial garbage (counted) and keeps publishing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardDefinition } from '@shouwang/hardware';
import { decodeResponse, encodeRequest, positionOf, SBD_MO_BYTES, sniffEncoding, topics } from '@shouwang/protocol';
import { connectMqtt } from '../src/services/mqtt-connect.ts';
import { startUnit } from './unit.ts';
import { until } from './wait.ts';

test('a simulated unit reports presence, power, location and link that match the simulator', async (t) => {
  const u = await startUnit(t, { timeScale: 60, config: { report: { heartbeatS: 60 } } });
  await until(
    'status reported',
    () => ['power', 'location', 'link'].every((k) => u.decoded().some((m) => m.type === 'uplink' && m.kind === k)),
    15_000,
  );
  // Compare a later report: the simulator's first second is still settling its starting charge.
  await until('a second power report', () => u.decoded().filter((m) => m.type === 'uplink' && m.kind === 'power').length >= 2, 15_000);
  const msgs = u.decoded().reverse();
  const presence = msgs.find((m) => m.type === 'uplink' && m.kind === 'presence');
  assert.ok(presence?.type === 'uplink' && presence.kind === 'presence' && presence.payload.state === 'online');
  const truth = u.sim.truth();
  const power = msgs.find((m) => m.type === 'uplink' && m.kind === 'power');
  assert.ok(power?.type === 'uplink' && power.kind === 'power');
  assert.ok(Math.abs(power.payload.batteryV - truth.power.batteryV) < 0.05, `${power.payload.batteryV} vs ${truth.power.batteryV}`);
  assert.ok(Math.abs(power.payload.soc - truth.power.soc) < 10, `soc ${power.payload.soc} vs truth ${truth.power.soc}`);
  const loc = msgs.find((m) => m.type === 'uplink' && m.kind === 'location');
  assert.ok(loc?.type === 'uplink' && loc.kind === 'location');
  const at = positionOf(loc.payload);
  assert.ok(at && Math.abs(at.lat - 45.7578) < 0.001 && Math.abs(at.lon - 126.6425) < 0.0015);
  const link = msgs.find((m) => m.type === 'uplink' && m.kind === 'link');
  assert.ok(link?.type === 'uplink' && link.kind === 'link');
  assert.deepEqual([link.payload.type, link.payload.operator], ['lte', 'CHINA MOBILE']);
});

test('ping is answered with the correlation id over the real broker', async (t) => {
  const u = await startUnit(t, { timeScale: 1 });
  await until('online and subscribed', () => u.device.uplink.ready, 10_000);
  const client = connectMqtt(u.broker.url, { clientId: 'fleet-test', protocolVersion: 4, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const closed = new Promise<void>((r) => client.once('end', () => r()));
  await new Promise<void>((r) => client.once('connect', () => r()));
  const got = new Promise<Buffer>((resolve) => client.on('message', (_topic, payload) => resolve(payload)));
  await client.subscribeAsync(topics.response('hrb-001', 'ping'), { qos: 1 });
  await client.publishAsync(topics.request('hrb-001', 'ping'), Buffer.from(encodeRequest('ping', { id: 'corr-42', args: {} })), { qos: 1 });
  const res = decodeResponse('ping', await got);
  client.end(true);
  await closed;
  assert.ok(res.ok && res.value.status === 'ok' && res.value.id === 'corr-42', JSON.stringify(res));
});

test('garbage on the GPS and modem lines is counted and dropped; the agent keeps publishing', async (t) => {
  const u = await startUnit(t, { timeScale: 60, config: { report: { heartbeatS: 60 } } });
  await until('first status', () => u.decoded().some((m) => m.type === 'uplink' && m.kind === 'power'), 15_000);
  for (let i = 0; i < 20; i++) {
    u.sim.serialGarbage('gps', '\x00\xff\xfe$GPGGA,123,garbage*7Z\r\n$GPRMC,,A,9999.99,X*00\r\n');
    u.sim.serialGarbage('modem', '\xff\x00\x13+CSQ: banana\r\nNO SUCH THING\r\n');
  }
  await until('garbage counted', () => u.device.gps.dropped.total() >= 20 && u.device.modem.dropped.total() >= 20, 10_000);
  const before = u.broker.received.length;
  const seqBefore = u.device.outbox.lastSeq();
  await until('still publishing', () => u.broker.received.length > before + 3 && u.device.outbox.lastSeq() > seqBefore, 15_000);
  assert.ok(u.device.gps.dropped.get('checksum') + u.device.gps.dropped.get('framing') > 0);
  assert.ok(u.device.modem.dropped.get('garbage') > 0);
  // The fix survives the noise.
  assert.equal(u.device.gps.current()?.fix !== 'none', true);
});

test('a power monitor that stops answering on I²C is counted; the rest of the readings go on', async (t) => {
  const u = await startUnit(t, { timeScale: 60, config: { report: { heartbeatS: 60 } } });
  await until('first status', () => u.decoded().some((m) => m.type === 'uplink' && m.kind === 'power'), 15_000);
  const wind = boardDefinition(u.cfg.board).monitors.find((m) => m.name === 'wind');
  assert.ok(wind);
  u.sim.i2cSilent(wind.address, true);
  assert.ok(u.device.sensors);
  const dropped = u.device.sensors.monitors.dropped;
  await until('silent chip counted', () => dropped.get('timeout') >= 2, 15_000);
  const n = u.decoded().filter((m) => m.type === 'uplink' && m.kind === 'power').length;
  await until('power still reported', () => u.decoded().filter((m) => m.type === 'uplink' && m.kind === 'power').length > n, 15_000);
});

test('on a satellite link the unit sends only alarms and one SBD-sized digest carrying the open alarm', async (t) => {
  const u = await startUnit(t, {
    timeScale: 60,
    config: { sim: { lat: 45.7578, lon: 126.6425, timeScale: 60, link: 'satellite' }, report: { heartbeatS: 600 } },
  });
  await until('first digest', () => u.decoded().some((m) => m.type === 'uplink' && m.kind === 'digest'), 20_000);
  u.sim.tamper(true);
  const withAlarm = () =>
    u.decoded().some((m) => m.type === 'uplink' && m.kind === 'digest' && m.payload.alarms.some((a) => a.kind === 'tamper'));
  await until('the tamper alarm and a digest listing it', () => withAlarm(), 20_000);
  const data = u.broker.received.filter((r) => !r.topic.endsWith('/presence'));
  const kinds = new Set(data.map((r) => r.topic.split('/').pop()));
  assert.deepEqual([...kinds].sort(), ['alarm', 'digest']);
  for (const r of data) {
    assert.equal(sniffEncoding(r.payload), 'compact');
    if (r.topic.endsWith('/digest')) assert.ok(r.payload.length <= SBD_MO_BYTES, `${r.payload.length} B`);
  }
  const digest = u.decoded().findLast((m) => m.type === 'uplink' && m.kind === 'digest');
  assert.ok(digest?.type === 'uplink' && digest.kind === 'digest');
  assert.equal(digest.payload.link?.type, 'satellite');
  assert.ok(Math.abs(digest.payload.power.batteryV - u.sim.truth().power.batteryV) < 0.2);
  assert.ok((digest.payload.link?.bytesMonth ?? 0) > 0, 'the month’s data counter travels with the status');
});
