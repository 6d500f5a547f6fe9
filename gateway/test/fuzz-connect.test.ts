/**
 * The bytes the gateway reads before anyone has logged in go through code of ours first
 * (domain/connect-check.ts, domain/packet-scanner.ts, the packet guard): a throw there would end
 * the process. Seeded mutations of valid CONNECTs — flipped bits, cut short, bytes inserted, lengths
 * changed — must each get a verdict, never an exception, and on the wire the gateway must keep
 * serving a unit that publishes meanwhile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeUplink, topics } from '@shouwang/protocol';
import { defer } from '@shouwang/testkit';
import { checkConnect } from '../src/domain/connect-check.ts';
import { PacketScanner } from '../src/domain/packet-scanner.ts';
import { connect, power, startGateway } from './helpers.ts';
import { connectPacket, rawSocket, reply } from './raw.ts';

/** mulberry32: the same cases on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seeds = [
  connectPacket('hrb-001', 'hrb-001', 'pw-1'),
  connectPacket('hrb-001', 'hrb-001', 'pw-1', {
    will: {
      topic: topics.uplink('hrb-001', 'presence'),
      payload: encodeUplink('presence', { state: 'offline', ts: 1 }),
      qos: 1,
      retain: true,
    },
  }),
  connectPacket('c', 'u', 'p', { protocolName: 'MQIsdp', level: 3, clean: false }),
];

function mutate(r: () => number, base: Buffer): Buffer {
  const b = Buffer.from(base);
  const pick = r();
  if (pick < 0.4) {
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
      const at = Math.floor(r() * b.length);
      b[at] = (b[at] as number) ^ (1 << Math.floor(r() * 8));
    }
    return b;
  }
  if (pick < 0.6) return b.subarray(0, Math.floor(r() * b.length));
  if (pick < 0.8) {
    const at = 2 + Math.floor(r() * (b.length - 2));
    const extra = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 6) }, () => Math.floor(r() * 256)));
    const out = Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
    out[1] = (out[1] as number) + (r() < 0.5 ? extra.length : 0); // sometimes the length follows
    return out;
  }
  b[2 + Math.floor(r() * 10)] = Math.floor(r() * 256); // a length or flag byte in the variable header
  return b;
}

test('100,000 mutated CONNECTs: the CONNECT check and the scanner give each a verdict and never throw', () => {
  const r = rng(11);
  const verdicts = new Map<string, number>();
  for (let i = 0; i < 100_000; i++) {
    const bytes = mutate(r, seeds[i % seeds.length] as Buffer);
    const scan = new PacketScanner(256 * 1024).feed(bytes);
    const v = bytes.length > 2 ? checkConnect(bytes.subarray(2)) : { ok: false as const, reason: 'connect-truncated' as const };
    const key = v.ok ? 'ok' : v.reason;
    verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
    assert.ok(scan.ok === true || typeof scan.reason === 'string');
  }
  // The mutations reach most refusal reasons, and some still pass.
  assert.ok((verdicts.get('ok') ?? 0) > 0);
  assert.ok(verdicts.size >= 8, JSON.stringify(Object.fromEntries(verdicts)));
});

test('500 mutated CONNECTs on the wire while a unit publishes: every reading acknowledged, the gateway still serving', async (t) => {
  const gw = await startGateway(
    t,
    { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: {} },
    { config: { auth: { failedLoginDelayMs: 0 } } },
  );
  const unit = await connect(t, gw.url, 'hrb-002', 'pw-2');
  let acked = 0;
  const publishing = (async () => {
    for (let seq = 1; seq <= 200; seq++) {
      await unit.publishAsync(topics.uplink('hrb-002', 'power'), Buffer.from(encodeUplink('power', power(seq))), { qos: 1 });
      acked++;
    }
  })();
  const r = rng(7);
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = await rawSocket(gw.mqttPort, `127.0.1.${(i % 20) + 1}`);
        defer(t, () => s.destroy());
        s.write(mutate(r, seeds[i % seeds.length] as Buffer));
        // A truncated CONNECT waits for the rest: give up on it after a moment, as a client would.
        await reply(s, 200).catch(() => undefined);
        s.destroy();
      }),
    );
  }
  await publishing;
  assert.equal(acked, 200);
  assert.ok((await fetch(`http://127.0.0.1:${gw.httpPort}/health`)).ok);
});
