/**
 * Media chunks through the gateway: forwarded to a subscribed service as sent, never journaled as
 * readings (nor forwarded to InfluxDB, which reads the journal); a unit may send chunks only as
 * itself; past its day's media bytes its chunks are refused and counted, and it keeps being served.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { encodeChunk, encodeUplink, filters, type MediaChunk, topics } from '@shouwang/protocol';
import { connect, metricsText, nextMessage, power, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

function chunk(recording: string, offset: number, data: Buffer): Buffer {
  const c: MediaChunk = { recording, kind: 'segment', offset, hash: sha(data), data, size: 1_000_000, sha256: sha(Buffer.alloc(1)) };
  return Buffer.from(encodeChunk(c));
}

test('chunks reach a subscribed service as sent, are never journaled, and only a unit’s own', async (t) => {
  const gw = await startGateway(t, creds);
  const fleet = await connect(t, gw.url, 'fleet', 'svc');
  await fleet.subscribeAsync(filters.allChunks(), { qos: 1 });
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const bytes = chunk('seg-1', 0, Buffer.alloc(60_000, 7));
  const got = nextMessage(fleet, (topic) => topic === topics.chunk('hrb-001'));
  await unit.publishAsync(topics.chunk('hrb-001'), bytes, { qos: 1 });
  assert.ok((await got).payload.equals(bytes), 'forwarded byte for byte');
  await unit.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(1))), { qos: 1 });
  assert.equal(gw.gateway.ingest.journal.count('hrb-001'), 1, 'the reading is journaled, the chunk is not');
  assert.match(await metricsText(gw), /messages_in_total\{kind="chunk"\} 1/);
  // Another unit's chunk topic is outside this unit's ACL: the connection is closed.
  const closed = new Promise<void>((r) => unit.once('close', () => r()));
  unit.publish(topics.chunk('hrb-002'), bytes, { qos: 1 });
  await closed;
  assert.match(await metricsText(gw), /rejects_total\{reason="acl"\} 1/);
});

test('past its day’s media bytes a unit’s chunks are refused and counted; its readings still go', async (t) => {
  const gw = await startGateway(t, creds, { config: { media: { unitBytesPerDay: 1024 * 1024 } } });
  const fleet = await connect(t, gw.url, 'fleet', 'svc');
  await fleet.subscribeAsync(filters.allChunks(), { qos: 1 });
  let forwarded = 0;
  fleet.on('message', (topic) => {
    if (topic === topics.chunk('hrb-001')) forwarded++;
  });
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  for (let i = 0; i < 12; i++)
    await unit.publishAsync(topics.chunk('hrb-001'), chunk('seg-2', i * 100_000, Buffer.alloc(100_000, i)), { qos: 1 });
  await unit.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(1))), { qos: 1 });
  assert.equal(gw.gateway.ingest.journal.count('hrb-001'), 1);
  assert.match(await metricsText(gw), /rejects_total\{reason="media-quota"\} 2/);
  // The other unit's quota is its own.
  const other = await connect(t, gw.url, 'hrb-002', 'pw-2');
  await other.publishAsync(topics.chunk('hrb-002'), chunk('seg-3', 0, Buffer.alloc(100_000)), { qos: 1 });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(forwarded, 10, 'ten chunks of 100 kB fit in a MiB, the other two were dropped');
  assert.match(await metricsText(gw), /rejects_total\{reason="media-quota"\} 2/);
});
