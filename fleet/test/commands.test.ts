/**
 * Request → response over a real broker. A *responder* is an MQTT.js client standing in for a
 * unit's agent: it decodes each request with the protocol and answers as told.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { decodeRequest, encodeResponse, filters, topics } from '@shouwang/protocol';
import { CommandClient, CommandTimeout, type Timers } from '../src/services/commands.ts';
import { apiClient, responder, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ok = (id: string): Uint8Array => encodeResponse('ping', { id, status: 'ok', data: { uptimeS: 42, ts: 1 } });

async function commander(t: TestContext, url: string, timers?: Timers) {
  const client = await unitClient(t, url, `svc-${Math.random().toString(36).slice(2, 8)}`);
  const commands = new CommandClient(client, timers ? { timers } : {});
  t.after(() => commands.close());
  return commands;
}

test('a command is answered by the unit it went to, matched by correlation id', async (t) => {
  const broker = await startBroker(t);
  await responder(t, broker.url, 'hrb-001', (_cmd, id) => [ok(id)]);
  await responder(t, broker.url, 'hrb-002', (_cmd, id) => [
    encodeResponse('ping', { id, status: 'error', error: { code: 'SW_ERR_FAILED', message: 'modem busy' } }),
  ]);
  const commands = await commander(t, broker.url);
  const [a, b] = await Promise.all([commands.send('hrb-001', 'ping', {}), commands.send('hrb-002', 'ping', {})]);
  assert.deepEqual(a.status === 'ok' && a.data, { uptimeS: 42, ts: 1 });
  assert.deepEqual(b.status === 'error' && b.error, { code: 'SW_ERR_FAILED', message: 'modem busy' });
});

test('garbage, unsolicited and misrouted answers are counted and dropped; the real answer still lands', async (t) => {
  const broker = await startBroker(t);
  const unit = await unitClient(t, broker.url, 'hrb-003');
  await unit.subscribeAsync(filters.unitRequests('hrb-003'), { qos: 1 });
  unit.on('message', (_topic, bytes) => {
    const req = decodeRequest('ping', bytes);
    if (!req.ok) return;
    const answers: [string, Uint8Array | string][] = [
      // The right correlation id from the wrong unit: ids alone do not authenticate an answer.
      [topics.response('hrb-004', 'ping'), ok(req.value.id)],
      [topics.response('hrb-003', 'ping'), '{"id":'],
      [topics.response('hrb-003', 'ping'), ok('someone-else')],
      [topics.response('hrb-003', 'ping'), ok(req.value.id)],
    ];
    // One publisher, QoS 1: the broker delivers them in this order.
    for (const [topic, body] of answers) unit.publish(topic, Buffer.from(body), { qos: 1 });
  });
  const commands = await commander(t, broker.url);
  const res = await commands.send('hrb-003', 'ping', {});
  assert.equal(res.status, 'ok');
  assert.deepEqual(Object.fromEntries(commands.dropped), { 'wrong-sender': 1, SW_ERR_ENCODING: 1, unsolicited: 1 });
});

test('no answer within the timeout rejects; an answer after that is unsolicited', async (t) => {
  const broker = await startBroker(t);
  const fire: (() => void)[] = [];
  const timers: Timers = { setTimeout: (fn) => fire.push(fn), clearTimeout: () => undefined };
  let requestId = '';
  const unit = await unitClient(t, broker.url, 'hrb-006');
  await unit.subscribeAsync(filters.unitRequests('hrb-006'), { qos: 1 });
  unit.on('message', (_topic, bytes) => {
    const req = decodeRequest('ping', bytes);
    if (req.ok) requestId = req.value.id;
  });
  const commands = await commander(t, broker.url, timers);
  const pending = commands.send('hrb-006', 'ping', {}, { timeoutMs: 30_000 });
  await waitFor(() => requestId !== '' && fire.length === 1);
  fire[0]?.();
  await assert.rejects(pending, CommandTimeout);
  await unit.publishAsync(topics.response('hrb-006', 'ping'), Buffer.from(ok(requestId)), { qos: 1 });
  await waitFor(() => commands.dropped.get('unsolicited') === 1);
});

test("a time-scaled fleet's commands expire on its scaled clock, the one its simulated units run on", async (t) => {
  const broker = await startBroker(t);
  const ADMIN = 'commands-scaled-admin-token-0123456789';
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, timeScale: 600 });
  const unit = await unitClient(t, broker.url, 'hrb-007');
  await unit.subscribeAsync(filters.unitRequests('hrb-007'), { qos: 1 });
  let expires = 0;
  unit.on('message', (_topic, bytes) => {
    const req = decodeRequest('ping', bytes);
    if (!req.ok) return;
    expires = req.value.expires ?? 0;
    unit.publish(topics.response('hrb-007', 'ping'), Buffer.from(ok(req.value.id)), { qos: 1 });
  });
  // The fleet knows the unit once it has heard from it; by then, at 600×, it runs minutes ahead of the wall.
  await send(unit, 'hrb-007', 'power', { seq: 1, ts: Date.now(), soc: 80, batteryV: 12.8, solarW: 5, windW: 1, loadW: 6, state: 'full' });
  await waitFor(() => fleet.state.get('hrb-007') !== undefined);
  await new Promise((r) => setTimeout(r, 200));
  const res = await apiClient(fleet.base)('POST', '/api/units/hrb-007/commands/ping', ADMIN, {});
  assert.equal(res.status, 200, JSON.stringify(res.body));
  // On the wall's clock it would expire 10 s (the default timeout) after the wall's now.
  assert.ok(expires - Date.now() > 100_000, `expires ${expires - Date.now()} ms after the wall's now`);
});
