/**
 * Every refusal is counted by reason in /metrics and logged at info with the client and the
 * reason — at most 20 lines per reason a minute, so a flood cannot fill the log.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { filters } from '@shouwang/protocol';
import { defer } from '@shouwang/testkit';
import { pino } from 'pino';
import { LogBudget } from '../src/domain/log-budget.ts';
import { metricsText, startGateway, waitFor } from './helpers.ts';
import { closed, connectPacket, packet, packetReader, rawSocket, str, subscribePacket } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1' }, services: { fleet: 'svc' } };

/** A pino logger at info whose lines land, parsed, in `lines`. */
function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

test('refusals Aedes makes on its own are counted and logged: connect timeout, malformed SUBSCRIBE, wildcard PUBLISH', async (t) => {
  const { log, lines } = capture();
  const gw = await startGateway(t, creds, { config: { broker: { connectTimeoutMs: 200 } }, log });
  const silent = await rawSocket(gw.mqttPort);
  defer(t, () => silent.destroy());
  await closed(silent);

  const sub = await rawSocket(gw.mqttPort);
  defer(t, () => sub.destroy());
  const r = packetReader(sub);
  sub.write(connectPacket('fleet', 'fleet', 'svc'));
  await r.next();
  // Requested QoS 3 in a SUBSCRIBE ([MQTT-3.8.3-4]): mqtt-packet refuses to parse it.
  sub.write(packet(0x82, Buffer.concat([Buffer.from([0x00, 0x01]), str(filters.allUplink('power')), Buffer.from([0x03])])));
  assert.equal(await r.next(), 'closed');

  const unit = await rawSocket(gw.mqttPort);
  defer(t, () => unit.destroy());
  const u = packetReader(unit);
  unit.write(connectPacket('hrb-001', 'hrb-001', 'pw-1'));
  await u.next();
  unit.write(packet(0x30, Buffer.concat([str('sw/v1/#'), Buffer.from('x')])));
  assert.equal(await u.next(), 'closed');

  await waitFor(async () => {
    const m = await metricsText(gw);
    return ['connect-timeout', 'subscribe-malformed', 'publish-wildcard'].every((reason) =>
      m.includes(`rejects_total{reason="${reason}"} 1`),
    );
  });
  for (const reason of ['connect-timeout', 'subscribe-malformed', 'publish-wildcard']) {
    const line = lines.find((l) => l.reason === reason);
    assert.ok(line, `no log line for ${reason}`);
    assert.equal(line.level, 30, 'at info');
    assert.ok(line.client !== undefined || line.from !== undefined, 'says who');
  }
  assert.equal(lines.find((l) => l.reason === 'publish-wildcard')?.client, 'hrb-001');
});

test('a flood of one refusal is counted in full but logged at most 20 times a minute', async (t) => {
  const { log, lines } = capture();
  const gw = await startGateway(t, creds, { log });
  for (let i = 0; i < 30; i++) {
    const s = await rawSocket(gw.mqttPort);
    defer(t, () => s.destroy());
    s.write(subscribePacket(filters.allUplink('power'), 0)); // before CONNECT
    await closed(s);
  }
  await waitFor(async () => (await metricsText(gw)).includes('rejects_total{reason="packet-before-connect"} 30'));
  assert.equal(lines.filter((l) => l.reason === 'packet-before-connect').length, 20);
});

test('the log budget says how many lines it left out once the next window opens', () => {
  let now = 0;
  const budget = new LogBudget({ perWindow: 2, windowMs: 1000, now: () => now });
  assert.deepEqual(
    [budget.take('a'), budget.take('a'), budget.take('a'), budget.take('a'), budget.take('b')],
    [{ suppressed: 0 }, { suppressed: 0 }, undefined, undefined, { suppressed: 0 }],
  );
  now = 1000;
  assert.deepEqual(budget.take('a'), { suppressed: 2 });
  assert.deepEqual(budget.take('a'), { suppressed: 0 });
});
