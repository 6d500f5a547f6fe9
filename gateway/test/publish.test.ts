import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import { connect, metricsText, nextMessage, power, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } };

test('valid uplink reaches services in both encodings and is counted by kind', async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.allUplink('power'), { qos: 1 });
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  for (const enc of ['json', 'compact'] as const) {
    const got = nextMessage(fleet, (tp) => tp === topics.uplink('hrb-001', 'power'));
    await unit.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(1), enc)), { qos: 1 });
    assert.deepEqual(Buffer.from((await got).payload), Buffer.from(encodeUplink('power', power(1), enc)));
  }
  const m = await metricsText(gw);
  assert.match(m, /shouwang_gateway_messages_in_total\{kind="power"\} 2/);
  assert.match(m, /shouwang_gateway_messages_out_total\{kind="power"\} 2/);
});

test('malformed and oversized payloads are acknowledged, discarded and counted; the unit stays connected', async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.everything(), { qos: 1 });
  const seen: string[] = [];
  fleet.on('message', (tp) => seen.push(tp));
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const topic = topics.uplink('hrb-001', 'power');
  await unit.publishAsync(topic, Buffer.from('{"seq":1,'), { qos: 1 }); // PUBACK still arrives
  await unit.publishAsync(topic, Buffer.from(JSON.stringify({ ...power(2), soc: 400 })), { qos: 1 });
  await unit.publishAsync(topic, Buffer.alloc(100_000, 0x7b), { qos: 1 });
  await unit.publishAsync(topics.uplink('hrb-001', 'alarm'), Buffer.from([0x85, 0x01]), { qos: 0 });
  const good = nextMessage(fleet, (tp) => tp === topic);
  await unit.publishAsync(topic, Buffer.from(encodeUplink('power', power(3))), { qos: 1 });
  await good;
  assert.equal(unit.connected, true);
  assert.deepEqual(seen, [topic], 'only the valid message was delivered');
  const m = await metricsText(gw);
  assert.match(m, /rejects_total\{reason="SW_ERR_ENCODING"\} 2/);
  assert.match(m, /rejects_total\{reason="SW_ERR_SCHEMA"\} 1/);
  assert.match(m, /rejects_total\{reason="SW_ERR_TOO_LARGE"\} 1/);
});

test("a unit publishing into another unit's subtree is cut off and counted; others keep flowing", async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.allUplink('power'), { qos: 1 });
  const rogue = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const honest = await connect(t, gw.url, 'hrb-002', 'pw-2');
  const cut = new Promise<void>((resolve) => rogue.once('close', () => resolve()));
  rogue.publish(topics.uplink('hrb-002', 'power'), Buffer.from(encodeUplink('power', power(1))), { qos: 1 });
  await cut;
  const got = nextMessage(fleet, (tp) => tp === topics.uplink('hrb-002', 'power'));
  await honest.publishAsync(topics.uplink('hrb-002', 'power'), Buffer.from(encodeUplink('power', power(2))), { qos: 1 });
  assert.equal(JSON.parse((await got).payload.toString()).seq, 2, 'the forged message never arrived');
  assert.match(await metricsText(gw), /rejects_total\{reason="acl"\} 1/);
});

test('units may subscribe only to their own requests; services may not publish data', async (t) => {
  const gw = await startGateway(t, creds);
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  for (const filter of ['#', 'sw/v1/+/req/+', 'sw/v1/hrb-002/req/+', '$SYS/#']) {
    await assert.rejects(unit.subscribeAsync(filter), /Subscribe error/, filter); // SUBACK 0x80
  }
  await unit.subscribeAsync(filters.unitRequests('hrb-001'));
  assert.equal(unit.connected, true);
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  const cut = new Promise<void>((resolve) => fleet.once('close', () => resolve()));
  fleet.publish(topics.uplink('hrb-001', 'alarm'), '{}');
  await cut;
  assert.match(await metricsText(gw), /reason="subscribe-acl"\} 4/);
});

test("a command from a service reaches its unit, and the unit's last will announces it offline", async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.allUplink('presence'), { qos: 1 });
  const offline = Buffer.from(encodeUplink('presence', { state: 'offline', ts: 1 }));
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1', {
    will: { topic: topics.uplink('hrb-001', 'presence'), payload: offline, qos: 1, retain: true },
  });
  await unit.subscribeAsync(filters.unitRequests('hrb-001'), { qos: 1 });
  const req = nextMessage(unit, (tp) => tp === topics.request('hrb-001', 'ping'));
  await fleet.publishAsync(topics.request('hrb-001', 'ping'), JSON.stringify({ id: 'c1', args: {} }), { qos: 1 });
  assert.equal(JSON.parse((await req).payload.toString()).id, 'c1');

  const will = nextMessage(fleet, (tp) => tp === topics.uplink('hrb-001', 'presence'));
  unit.stream.destroy(); // the socket dies with no DISCONNECT: the broker must publish the will
  assert.equal(JSON.parse((await will).payload.toString()).state, 'offline');
});

test('outside clients (mosquitto_pub / mosquitto_sub) go through the same door', async (t) => {
  const gw = await startGateway(t, creds);
  const topic = topics.uplink('hrb-002', 'power');
  const run = (cmd: string, args: string[]) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      const p = spawn(cmd, ['-h', '127.0.0.1', '-p', String(gw.mqttPort), '-t', topic, '-q', '1', ...args]);
      t.after(() => p.kill());
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
      });
      p.on('exit', (code) => resolve({ code: code ?? -1, out }));
    });
  const payload = Buffer.from(encodeUplink('power', power(7))).toString();
  const creds2 = (user: string, pw: string) => ['-u', user, '-P', pw, '-i', user];
  assert.notEqual((await run('mosquitto_pub', [...creds2('hrb-002', 'nope'), '-r', '-m', payload])).code, 0, 'wrong password fails');
  assert.equal((await run('mosquitto_pub', [...creds2('hrb-002', 'pw-2'), '-r', '-m', payload])).code, 0);
  // Power is retained, so a late subscriber sees the last value at once.
  const sub = await run('mosquitto_sub', [...creds2('fleet', 'svc'), '-C', '1', '-W', '10']);
  assert.equal(sub.code, 0);
  assert.equal(JSON.parse(sub.out).seq, 7);
});
