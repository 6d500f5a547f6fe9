/**
 * The S3 media store. Tested against s3rver, a fake S3 server on npm that speaks the S3 REST API
 * over HTTP with signed requests and keeps objects on disk: the most real S3 this machine can
 * run. Ceph's radosgw (Debian 16.2) needs a running Ceph cluster (monitor, manager, OSD) under it,
 * and MinIO's server is not packaged. What s3rver does not check (multipart edge cases, bucket
 * policies, consistency under load) is not tested here.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encodeChunk, type MediaChunk, topics } from '@shouwang/protocol';
import S3rver from 's3rver';
import { S3BlobStore } from '../src/media/s3-store.ts';
import { startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

async function startS3(t: TestContext): Promise<{ endpoint: string }> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: join(await tempDir(t), 's3'), silent: true });
  const { port } = await server.run();
  t.after(() => server.close());
  return { endpoint: `http://127.0.0.1:${port}` };
}

const S3_KEYS = { accessKey: 'S3RVER', secretKey: 'S3RVER' };

test('with media.store = s3 a verified file lands in the bucket byte-identical', async (t) => {
  const { endpoint } = await startS3(t);
  const broker = await startBroker(t);
  const s3 = { endpoint, bucket: 'shouwang-media', ...S3_KEYS };
  const fleet = await startTestFleet(t, broker.url, { media: { store: 's3', s3 } });
  const unit = await unitClient(t, broker.url, 'hrb-002');
  const file = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 13) & 0xff));
  for (let offset = 0; offset < file.length; offset += 65_536) {
    const data = file.subarray(offset, offset + 65_536);
    const chunk: MediaChunk = { recording: 'clip-9', kind: 'clip', offset, hash: sha(data), data, size: file.length, sha256: sha(file) };
    await unit.publishAsync(topics.chunk('hrb-002'), Buffer.from(encodeChunk(chunk)), { qos: 1 });
  }
  await waitFor(async () => (await fleet.media.store.get('hrb-002', 'clip-9'))?.state === 'complete', 10_000);
  const row = await fleet.media.store.get('hrb-002', 'clip-9');
  assert.equal(row?.location, 'hrb-002/clip-9');
  // Read back through a second client, as another fleet instance would.
  const other = await S3BlobStore.open({ ...s3, region: 'us-east-1', pathStyle: true });
  const back: Buffer[] = [];
  for await (const b of await other.open('hrb-002/clip-9')) back.push(b as Buffer);
  assert.ok(Buffer.concat(back).equals(file), 'byte-identical in the bucket');
  await other.remove('hrb-002/clip-9');
  await assert.rejects(other.open('hrb-002/clip-9'));
});
