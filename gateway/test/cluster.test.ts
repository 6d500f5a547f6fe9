import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRequest, filters, topics } from '@shouwang/protocol';
import { defer, startRedis } from '@shouwang/testkit';
import mqtt from 'mqtt';
import { connect, nextMessage, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1' }, services: { fleet: 'svc' } };

test('two gateway nodes on one Redis: a command sent through node B reaches a unit on node A', async (t) => {
  const redis = await startRedis((fn) => defer(t, fn));
  const cluster = { broker: { state: 'redis', redisUrl: redis.url } };
  const a = await startGateway(t, creds, { config: cluster });
  const b = await startGateway(t, creds, { config: cluster });
  const unit = await connect(t, a.url, 'hrb-001', 'pw-1');
  await unit.subscribeAsync(filters.unitRequests('hrb-001'), { qos: 1 });
  const fleet = await connect(t, b.url, 'fleet', 'svc', { clientId: 'fleet' });
  const got = nextMessage(unit, (tp) => tp === topics.request('hrb-001', 'ping'));
  await fleet.publishAsync(topics.request('hrb-001', 'ping'), Buffer.from(encodeRequest('ping', { id: 'via-b', args: {} })), { qos: 1 });
  assert.equal(JSON.parse((await got).payload.toString()).id, 'via-b');
});

test('a QoS 1 command queued in the cluster survives a restart of both nodes', async (t) => {
  const redis = await startRedis((fn) => defer(t, fn));
  const cluster = { broker: { state: 'redis', redisUrl: redis.url } };
  const a = await startGateway(t, creds, { config: cluster });
  const b = await startGateway(t, creds, { config: cluster });
  const unit = await connect(t, a.url, 'hrb-001', 'pw-1', { clean: false });
  await unit.subscribeAsync(filters.unitRequests('hrb-001'), { qos: 1 });
  await unit.endAsync();
  const fleet = await connect(t, b.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.publishAsync(topics.request('hrb-001', 'ping'), Buffer.from(encodeRequest('ping', { id: 'queued', args: {} })), { qos: 1 });
  await fleet.endAsync();
  await a.gateway.close();
  await b.gateway.close();

  const b2 = await startGateway(t, creds, { config: cluster });
  await startGateway(t, creds, { config: cluster });
  const back = mqtt.connect(b2.url, { username: 'hrb-001', password: 'pw-1', clientId: 'hrb-001', clean: false, reconnectPeriod: 0 });
  t.after(() => back.end(true));
  const got = await nextMessage(back, (tp) => tp === topics.request('hrb-001', 'ping'));
  assert.equal(JSON.parse(got.payload.toString()).id, 'queued');
});
