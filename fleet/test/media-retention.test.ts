/**
 * The media store's retention policy against the real stores — the file store on disk and the S3
 * store on s3rver — with a real broker and an MQTT.js client in the unit's place: old media goes,
 * the store is brought under its quota oldest first, abandoned partial uploads and stray staging
 * files go, and evidence of an alarm not cleared or of a ticket not closed stays whatever its age.
 * The policy runs once per interval on the fleet's clock (a second ask in the same interval finds
 * nothing due), and of two instances on one database exactly one runs it; on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encodeChunk, type MediaChunk, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import S3rver from 's3rver';
import { FileBlobStore } from '../src/media/blob-store.ts';
import { S3BlobStore } from '../src/media/s3-store.ts';
import { gatewaySystem } from './alarm-helpers.ts';
import { send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';
import { hearMediaAcks } from './media-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const UNIT = 'hrb-901';
const DAY = 86_400_000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
const fileOf = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 11) & 0xff));
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Sends a recording's chunks; `upTo` bytes only for a partial upload. */
async function upload(
  unit: MqttClient,
  recording: string,
  file: Buffer,
  alarm?: string,
  upTo = file.length,
  kind: MediaChunk['kind'] = 'clip',
) {
  for (let offset = 0; offset < upTo; offset += 16_384) {
    const data = file.subarray(offset, Math.min(offset + 16_384, upTo));
    const chunk: MediaChunk = { recording, kind, offset, hash: sha(data), data, size: file.length, sha256: sha(file) };
    if (alarm) chunk.alarm = alarm;
    await unit.publishAsync(topics.chunk(UNIT), Buffer.from(encodeChunk(chunk)), { qos: 1 });
  }
}

const RETENTION = { keepDays: 30, liveKeepHours: 24, stagingMaxAgeH: 24, intervalS: 3600, pollS: 3600 };

const freshPostgres = postgresDatabases('retention');

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`file store: old media and abandoned uploads go; evidence of an uncleared alarm or an open ticket stays; once per interval (${dialect})`, async (t) => {
    await fileStore(t, dialect === 'postgres' ? await freshPostgres() : '');
  });
}

async function fileStore(t: TestContext, storageUrl: string): Promise<void> {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const fleet = await startTestFleet(t, broker.url, { dataDir, storageUrl, clock: { now: () => now }, media: { retention: RETENTION } });
  const unit = await unitClient(t, broker.url, UNIT);
  const row = (rec: string) => fleet.media.store.get(UNIT, rec);
  const files = new FileBlobStore(join(dataDir, 'media', 'store'));
  const staging = (rec: string) => join(dataDir, 'media', 'staging', UNIT, `${rec}.part`);

  // A tamper (its ticket opens) with a clip filed under it and a still its manifest names.
  await send(unit, UNIT, 'alarm', { seq: 1, ts: now, id: 'tamper-1', kind: 'tamper', severity: 'critical', state: 'raised' });
  const still = fileOf(20_000, 3);
  await send(unit, UNIT, 'evidence', {
    seq: 2,
    ts: now,
    alarm: 'tamper-1',
    entries: [{ part: 'snapshot', ts: now, recording: 'still-1', bytes: still.length, sha256: sha(still).toString('hex') }],
    head: '0'.repeat(64),
  });
  await upload(unit, 'clip-1', fileOf(40_000, 5), 'tamper-1');
  await upload(unit, 'still-1', still);
  await upload(unit, 'routine-old', fileOf(30_000, 7));
  await upload(unit, 'stuck', fileOf(50_000, 9), undefined, 16_384);
  await upload(unit, 'stuck-ev', fileOf(50_000, 13), 'tamper-1', 16_384);
  await waitFor(async () => (await row('routine-old'))?.state === 'complete' && (await row('stuck-ev'))?.have.length === 1, 10_000);
  await waitFor(async () => (await row('clip-1'))?.state === 'complete' && (await row('still-1'))?.state === 'complete', 10_000);
  await waitFor(async () => (await fleet.media.store.getEvidence(UNIT, 'tamper-1')) !== undefined);
  now += 20 * DAY;
  await upload(unit, 'routine-new', fileOf(30_000, 17));
  await waitFor(async () => (await row('routine-new'))?.state === 'complete', 10_000);
  // Live segments: one watched 2 days before the run, one an hour before.
  now += 13 * DAY;
  await upload(unit, 'feed-1', fileOf(10_000, 19), undefined, undefined, 'live');
  await waitFor(async () => (await row('feed-1'))?.state === 'complete', 10_000);
  now += 2 * DAY - 3_600_000;
  await upload(unit, 'feed-2', fileOf(10_000, 23), undefined, undefined, 'live');
  await waitFor(async () => (await row('feed-2'))?.state === 'complete', 10_000);
  now += 3_600_000;
  // A staging file nothing is uploading (left by a crash).
  await mkdir(join(dataDir, 'media', 'staging', UNIT), { recursive: true });
  await writeFile(staging('ghost'), 'half a file');

  // routine-old, clip-1 and still-1 are 35 days old; routine-new 15; feed-1 2, feed-2 1 hour.
  const report = await fleet.media.retention.runDue();
  assert.ok(report, 'the interval’s run was due');
  assert.deepEqual(
    { expired: report.expired, abandoned: report.abandoned, orphans: report.orphans, held: report.held, overQuota: report.overQuota },
    { expired: 2, abandoned: 1, orphans: 1, held: 2, overQuota: 0 },
  );
  assert.equal(await row('routine-old'), undefined);
  assert.equal(await row('feed-1'), undefined, 'a live segment past liveKeepHours');
  assert.equal(await exists(files.path(`${UNIT}/routine-old`)), false, 'its file is gone from the store');
  assert.deepEqual([(await row('stuck'))?.state, (await row('stuck'))?.have], ['abandoned', []], 'kept, holding none of it');
  assert.equal(await exists(staging('stuck')), false, 'the abandoned upload’s staging file is gone');
  assert.equal(await exists(staging('ghost')), false, 'the stray staging file is gone');
  for (const rec of ['clip-1', 'still-1', 'routine-new', 'feed-2']) {
    assert.equal((await row(rec))?.state, 'complete', rec);
    assert.equal(await exists(files.path(`${UNIT}/${rec}`)), true, rec);
  }
  assert.equal((await row('stuck-ev'))?.state, 'partial', 'a partial upload of held evidence stays');
  assert.equal(await exists(staging('stuck-ev')), true);
  assert.equal(await fleet.media.retention.runDue(), null, 'once per interval');

  // The alarm clears; its ticket is still open: the evidence stays.
  await send(unit, UNIT, 'alarm', { seq: 3, ts: now, id: 'tamper-1', kind: 'tamper', severity: 'critical', state: 'cleared' });
  await waitFor(async () => (await fleet.loop.alarms.get(`${UNIT}~tamper~tamper-1`))?.state === 'cleared');
  now += RETENTION.intervalS * 1000;
  const again = await fleet.media.retention.runDue();
  assert.equal(again?.held, 2, JSON.stringify(again));
  assert.equal((await row('clip-1'))?.state, 'complete');
}

for (const via of ['a plain broker', 'the real gateway'] as const) {
  test(`a unit resuming an upload retention abandoned is told \`abandoned\`; sent again from 0 it completes; the row goes after keepDays (${via})`, async (t) => {
    await resumesAbandoned(t, via);
  });
}

async function resumesAbandoned(t: TestContext, via: 'a plain broker' | 'the real gateway'): Promise<void> {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const clock = { now: () => now };
  const media = { retention: RETENTION };
  let fleet: Awaited<ReturnType<typeof startTestFleet>>;
  let unit: MqttClient;
  if (via === 'a plain broker') {
    const broker = await startBroker(t);
    fleet = await startTestFleet(t, broker.url, { dataDir: await tempDir(t), clock, media });
    unit = await unitClient(t, broker.url, UNIT);
  } else {
    // The fleet's media-ack crosses the gateway, which checks every publish against the protocol.
    const sys = await gatewaySystem(t, 'retention', '', { clock, media });
    fleet = await sys.start();
    unit = await sys.provision(fleet.base, UNIT);
  }
  const acks = await hearMediaAcks(unit, UNIT);
  const row = () => fleet.media.store.get(UNIT, 'clip-away');
  const file = fileOf(50_000, 29);
  await upload(unit, 'clip-away', file, undefined, 32_768);
  await waitFor(async () => (await row())?.have[0]?.length === 32_768, 10_000);
  // A week in a dead zone: past stagingMaxAgeH, the fleet gives the upload up.
  now += 7 * DAY;
  assert.equal((await fleet.media.retention.runDue())?.abandoned, 1);
  // The unit comes back and resumes where it believes the fleet is.
  const tail = file.subarray(32_768);
  const resume: MediaChunk = {
    recording: 'clip-away',
    kind: 'clip',
    offset: 32_768,
    hash: sha(tail),
    data: tail,
    size: file.length,
    sha256: sha(file),
  };
  await unit.publishAsync(topics.chunk(UNIT), Buffer.from(encodeChunk(resume)), { qos: 1 });
  await waitFor(() => acks.some((a) => a.recording === 'clip-away'), 10_000);
  assert.deepEqual(acks, [{ recording: 'clip-away', state: 'abandoned', have: [] }]);
  assert.equal(fleet.media.assembler.dropped.get('abandoned'), 1);
  assert.deepEqual([(await row())?.state, (await row())?.have], ['abandoned', []], 'nothing of the resume was kept');
  // It starts again from 0: the file is assembled whole.
  await upload(unit, 'clip-away', file);
  await waitFor(() => acks.some((a) => a.recording === 'clip-away' && a.state === 'complete'), 10_000);
  const stored = await fleet.media.store.get(UNIT, 'clip-away');
  assert.equal(stored?.state, 'complete');
  assert.equal(await fleet.media.store.unitBytes(UNIT), file.length);
  // Another upload abandoned and never resumed: its row goes once keepDays have passed.
  await upload(unit, 'clip-gone', fileOf(50_000, 31), undefined, 16_384);
  await waitFor(async () => (await fleet.media.store.get(UNIT, 'clip-gone'))?.have.length === 1, 10_000);
  now += 2 * DAY;
  await fleet.media.retention.runDue();
  assert.equal((await fleet.media.store.get(UNIT, 'clip-gone'))?.state, 'abandoned');
  now += RETENTION.keepDays * DAY + 3_600_000;
  await fleet.media.retention.runDue();
  assert.equal(await fleet.media.store.get(UNIT, 'clip-gone'), undefined);
}

test('a unit with an abandoned upload hears `abandoned` as it comes online, before any resume; one still partial hears what the fleet holds', async (t) => {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, {
    dataDir: await tempDir(t),
    clock: { now: () => now },
    media: { retention: RETENTION },
  });
  const unit = await unitClient(t, broker.url, UNIT);
  const acks = await hearMediaAcks(unit, UNIT);
  await upload(unit, 'clip-left', fileOf(50_000, 37), undefined, 16_384);
  await waitFor(async () => (await fleet.media.store.get(UNIT, 'clip-left'))?.have.length === 1, 10_000);
  now += 2 * DAY;
  assert.equal((await fleet.media.retention.runDue())?.abandoned, 1);
  // Begun after retention's run: still partial.
  await upload(unit, 'clip-new', fileOf(50_000, 41), undefined, 16_384);
  await waitFor(async () => (await fleet.media.store.get(UNIT, 'clip-new'))?.have.length === 1, 10_000);
  acks.length = 0;
  // Back from the dead zone: online, and not a chunk sent.
  await send(unit, UNIT, 'presence', { state: 'online', ts: now });
  await waitFor(() => acks.length === 2, 10_000);
  assert.deepEqual(
    acks.sort((a, b) => a.recording.localeCompare(b.recording)),
    [
      { recording: 'clip-left', state: 'abandoned', have: [] },
      { recording: 'clip-new', state: 'partial', have: [{ offset: 0, length: 16_384 }] },
    ],
  );
  assert.equal(fleet.media.assembler.dropped.get('abandoned'), undefined, 'no resume was needed to learn it');
});

async function startS3(t: TestContext): Promise<{ endpoint: string }> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: join(await tempDir(t), 's3'), silent: true });
  const { port } = await server.run();
  t.after(() => server.close());
  return { endpoint: `http://127.0.0.1:${port}` };
}

test('S3 store: past the quota the oldest media goes first from the bucket, held evidence stepped over', async (t) => {
  let now = Date.parse('2026-03-01T00:00:00Z');
  const { endpoint } = await startS3(t);
  const s3 = { endpoint, bucket: 'shouwang-media', accessKey: 'S3RVER', secretKey: 'S3RVER' };
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, {
    clock: { now: () => now },
    media: { store: 's3', s3, retention: { ...RETENTION, storeQuotaBytes: 100_000 } },
  });
  const unit = await unitClient(t, broker.url, UNIT);
  const row = (rec: string) => fleet.media.store.get(UNIT, rec);
  await send(unit, UNIT, 'alarm', { seq: 1, ts: now, id: 'fire-1', kind: 'fire', severity: 'critical', state: 'raised' });
  // Oldest first: the fire's clip, then three routine ones; 160 kB in all against a quota of 100 kB.
  const recs = ['fire-clip', 'a', 'b', 'c'];
  for (const [i, rec] of recs.entries()) {
    await upload(unit, rec, fileOf(40_000, 3 + 2 * i), rec === 'fire-clip' ? 'fire-1' : undefined);
    await waitFor(async () => (await row(rec))?.state === 'complete', 10_000);
    now += 60_000;
  }
  const report = await fleet.media.retention.runDue();
  assert.deepEqual([report?.overQuota, report?.held, report?.storedBytes], [2, 1, 80_000], JSON.stringify(report));
  assert.deepEqual(await Promise.all(recs.map(async (r) => (await row(r))?.state ?? 'gone')), ['complete', 'gone', 'gone', 'complete']);
  const bucket = await S3BlobStore.open({ ...s3, region: 'us-east-1', pathStyle: true });
  await assert.rejects(bucket.open(`${UNIT}/a`), 'deleted from the bucket');
  await assert.rejects(bucket.open(`${UNIT}/b`));
  for (const rec of ['fire-clip', 'c']) (await bucket.open(`${UNIT}/${rec}`)).destroy();
});

test('two instances on one PostgreSQL database: each interval’s run is claimed by exactly one of them', async (t) => {
  let now = Date.parse('2026-03-01T00:30:00Z');
  const storageUrl = await freshPostgres();
  const broker = await startBroker(t);
  const fleets: Awaited<ReturnType<typeof startTestFleet>>[] = [];
  for (const i of [0, 1])
    fleets.push(
      await startTestFleet(t, broker.url, {
        storageUrl,
        instanceId: `media-${i}`,
        clock: { now: () => now },
        media: { retention: RETENTION },
      }),
    );
  const runs = async () => (await Promise.all(fleets.map((f) => f.media.retention.runDue()))).filter((r) => r !== null).length;
  assert.equal(await runs(), 1, 'the interval both armed at start');
  assert.equal(await runs(), 0);
  now += RETENTION.intervalS * 1000;
  assert.equal(await runs(), 1, 'the next interval, armed by the run before');
  now += 3 * RETENTION.intervalS * 1000;
  assert.equal(await runs(), 1, 'after a gap: one run, not one per missed interval');
});
