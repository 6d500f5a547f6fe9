import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import { connect, power, startGateway } from './helpers.ts';

/**
 * Aedes drops a delivery whose broker counter is lower than one already delivered to the same
 * client (its dedupe). Retained publishes wait for the on-disk store before they are emitted, so
 * without care a slow disk write lets a later packet overtake an earlier one — and the earlier
 * one is silently never delivered. Every accepted message must reach every subscriber.
 */
test('concurrent retained publishes from many units all reach the subscriber', async (t) => {
  const ids = Array.from({ length: 40 }, (_, i) => `hrb-${String(i).padStart(3, '0')}`);
  const gw = await startGateway(t, { units: Object.fromEntries(ids.map((id) => [id, 'pw'])), services: { fleet: 'svc' } });
  const fleet = await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync([filters.allUplink('power'), filters.allUplink('telemetry')], { qos: 1 });
  let received = 0;
  fleet.on('message', () => {
    received++;
  });
  const units = await Promise.all(ids.map((id) => connect(t, gw.url, id, 'pw')));
  const PER = 10;
  await Promise.all(
    units.map(async (u, i) => {
      const id = ids[i] as string;
      for (let seq = 1; seq <= PER; seq++) {
        const retained = u.publishAsync(topics.uplink(id, 'power'), Buffer.from(encodeUplink('power', power(seq))), {
          qos: 1,
          retain: true,
        });
        const plain = u.publishAsync(
          topics.uplink(id, 'telemetry'),
          Buffer.from(encodeUplink('telemetry', { seq: 1000 + seq, ts: 1, periodMs: 1000, series: { v: [seq] } })),
          { qos: 1 },
        );
        await Promise.all([retained, plain]);
      }
    }),
  );
  const deadline = Date.now() + 5000;
  while (received < ids.length * PER * 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(received, ids.length * PER * 2);
});
