/**
 * The fleet's media intake against a real broker, with an MQTT.js client in the unit's place:
 * chunks in any order and twice become one verified file in the store, and the unit hears
 * `complete`; what is still missing is said when the last bytes come with a gap and when the unit
 * comes online; a chunk with a wrong hash, a contradiction, a file past the unit's quota and a
 * whole that fails its SHA-256 are each counted and answered; an alarm's evidence chain is judged
 * against the head the alarm carried, and its parts show as they arrive.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type EvidenceEntry, encodeChunk, evidenceHeads, type MediaAck, type MediaChunk, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import { FileBlobStore } from '../src/media/blob-store.ts';
import { send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';
import { hearMediaAcks } from './media-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const freshPostgres = postgresDatabases('media');

const UNIT = 'hrb-001';
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** A unit as far as media goes: publishes chunks, answers and records every media-ack. */
async function mediaUnit(t: TestContext, url: string, id = UNIT): Promise<{ client: MqttClient; acks: MediaAck[] }> {
  const client = await unitClient(t, url, id);
  return { client, acks: await hearMediaAcks(client, id) };
}

function chunksOf(file: Buffer, recording: string, size: number, extra: Partial<MediaChunk> = {}): MediaChunk[] {
  const out: MediaChunk[] = [];
  for (let offset = 0; offset < file.length; offset += size) {
    const data = file.subarray(offset, offset + size);
    out.push({ recording, kind: 'clip', offset, hash: sha(data), data, size: file.length, sha256: sha(file), ...extra });
  }
  return out;
}

function publish(client: MqttClient, chunk: MediaChunk, id = UNIT): Promise<unknown> {
  return client.publishAsync(topics.chunk(id), Buffer.from(encodeChunk(chunk)), { qos: 1 });
}

const someFile = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`chunks in any order, one of them twice, become one verified file; the unit hears complete (${dialect})`, async (t) => {
    await assembles(t, dialect === 'postgres' ? await freshPostgres() : '');
  });

  test(`a storm's evidence heads are all kept, over a manifest that came first and under one that comes after (${dialect})`, async (t) => {
    await stormHeads(t, dialect === 'postgres' ? await freshPostgres() : '');
  });
}

async function stormHeads(t: TestContext, storageUrl: string): Promise<void> {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { storageUrl });
  const units = Array.from({ length: 60 }, (_, i) => `hrb-${String(i + 100).padStart(3, '0')}`);
  const entries = (unitId: string): EvidenceEntry[] => [
    { part: 'position', ts: 1_763_856_000_000, lat: 45.7578, lon: 126.6425 },
    { part: 'readings', ts: 1_763_856_000_000, values: { tiltDeg: unitId.length } },
  ];
  const alarmOf = (unitId: string) => `${unitId}:tamper:1`;
  const headsOf = new Map(await Promise.all(units.map(async (u) => [u, await evidenceHeads(u, alarmOf(u), entries(u))] as const)));
  const client = await unitClient(t, broker.url, 'storm');
  const [early, late] = units as [string, string];
  // One unit's manifest is stored before its alarm: the head is judged against it when it comes.
  await send(client, early, 'evidence', {
    seq: 1,
    ts: 1_763_856_001_000,
    alarm: alarmOf(early),
    entries: entries(early),
    head: headsOf.get(early)?.[2] as string,
  });
  await waitFor(async () => (await fleet.media.evidence.status(early, alarmOf(early)))?.chain === 'ok');
  // All at once, as a storm: they reach the intake in a few batches.
  await Promise.all(
    units.map((u) =>
      send(client, u, 'alarm', {
        seq: 2,
        ts: 1_763_856_000_000,
        id: alarmOf(u),
        kind: 'tamper',
        severity: 'critical',
        state: 'raised',
        evidence: headsOf.get(u)?.[1] as string,
      }),
    ),
  );
  const statuses = async () => Promise.all(units.map((u) => fleet.media.evidence.status(u, alarmOf(u))));
  await waitFor(async () => (await statuses()).every((s, i) => s?.raisedHead === headsOf.get(units[i] as string)?.[1]), 10_000);
  assert.equal((await fleet.media.evidence.status(early, alarmOf(early)))?.chain, 'ok');
  // A manifest after the head, whose early part changed since the alarm vouched for it: broken.
  const altered = entries(late).map((e) => (e.part === 'position' ? { ...e, lat: 45.7 } : e));
  const alteredHead = (await evidenceHeads(late, alarmOf(late), altered))[2] as string;
  await send(client, late, 'evidence', { seq: 3, ts: 1_763_856_002_000, alarm: alarmOf(late), entries: altered, head: alteredHead });
  await waitFor(async () => (await fleet.media.evidence.status(late, alarmOf(late)))?.chain === 'broken');
  assert.equal((await statuses()).filter((s) => s?.chain === 'pending').length, units.length - 2);
}

async function assembles(t: TestContext, storageUrl: string): Promise<void> {
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const fleet = await startTestFleet(t, broker.url, { dataDir, storageUrl });
  const unit = await mediaUnit(t, broker.url);
  const file = someFile(50_000);
  const chunks = chunksOf(file, 'clip-1', 8192, { alarm: 'hrb-001:tamper:1' });
  chunks[0] = { ...(chunks[0] as MediaChunk), type: 'video/mp2t', startTs: 1_763_856_000_123, durationMs: 20_000 };
  for (const c of [...chunks.slice(3), chunks[1], ...chunks.slice(0, 3)] as MediaChunk[]) await publish(unit.client, c);
  await waitFor(() => unit.acks.some((a) => a.recording === 'clip-1' && a.state === 'complete'));
  const row = await fleet.media.store.get(UNIT, 'clip-1');
  assert.equal(row?.state, 'complete');
  assert.equal(row?.type, 'video/mp2t');
  assert.equal(row?.startTs, 1_763_856_000_123);
  assert.equal(row?.alarmId, 'hrb-001:tamper:1');
  const stored = await readFile(new FileBlobStore(join(dataDir, 'media', 'store')).path(row?.location ?? ''));
  assert.ok(stored.equals(file), 'byte-identical');
  assert.equal(fleet.media.assembler.dropped.get('duplicate') ?? 0, 0);
  // The API lists it and serves it as stored.
  const list = (await (await fetch(`${fleet.base}/api/units/${UNIT}/media`)).json()) as {
    media: { recording: string; receivedBytes: number }[];
  };
  assert.deepEqual(
    list.media.map((r) => [r.recording, r.receivedBytes]),
    [['clip-1', file.length]],
  );
  const res = await fetch(`${fleet.base}/api/units/${UNIT}/media/clip-1`);
  assert.equal(res.headers.get('content-type'), 'video/mp2t');
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(file));
  assert.equal((await fetch(`${fleet.base}/api/units/${UNIT}/media/clip-none`)).status, 404);
  // A chunk of a file already complete is answered complete again (the unit missed the first answer).
  await publish(unit.client, chunks[2] as MediaChunk);
  await waitFor(() => unit.acks.filter((a) => a.recording === 'clip-1' && a.state === 'complete').length === 2);
  assert.equal(await fleet.media.store.unitBytes(UNIT), file.length);
}

test('the last bytes with a gap, and the unit coming online, are answered with what the fleet holds', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await mediaUnit(t, broker.url);
  const file = someFile(30_000);
  const chunks = chunksOf(file, 'seg-1', 10_000);
  await publish(unit.client, chunks[0] as MediaChunk);
  await publish(unit.client, chunks[2] as MediaChunk);
  await waitFor(() => unit.acks.length === 1);
  assert.deepEqual(unit.acks[0], {
    recording: 'seg-1',
    state: 'partial',
    have: [
      { offset: 0, length: 10_000 },
      { offset: 20_000, length: 10_000 },
    ],
  });
  await send(unit.client, UNIT, 'presence', { state: 'online', ts: Date.now() });
  await waitFor(() => unit.acks.length === 2);
  assert.deepEqual(unit.acks[1], unit.acks[0]);
  await publish(unit.client, chunks[1] as MediaChunk);
  await waitFor(() => unit.acks.at(-1)?.state === 'complete');
  assert.equal((await fleet.media.store.unfinished(UNIT)).length, 0);
});

test('bad chunks are counted and answered: wrong hash, contradiction, past the quota, a whole that fails its SHA-256', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { media: { unitQuotaBytes: 1024 * 1024 + 1000 } });
  const unit = await mediaUnit(t, broker.url);
  const file = someFile(20_000);
  const [first, second] = chunksOf(file, 'clip-2', 10_000) as [MediaChunk, MediaChunk];
  await publish(unit.client, { ...first, hash: sha(Buffer.from('something else')) });
  await waitFor(() => fleet.media.assembler.dropped.get('chunk-hash') === 1);
  assert.equal(await fleet.media.store.get(UNIT, 'clip-2'), undefined, 'a chunk that fails its hash leaves nothing behind');
  await publish(unit.client, first);
  await publish(unit.client, { ...second, size: 20_001 });
  await waitFor(() => unit.acks.some((a) => a.state === 'refused' && a.reason === 'conflict'));
  // Past the quota: refused before a byte is written.
  const big = someFile(1024 * 1024);
  await publish(unit.client, chunksOf(big, 'seg-big', 60_000)[0] as MediaChunk);
  await waitFor(() => unit.acks.some((a) => a.recording === 'seg-big' && a.state === 'refused' && a.reason === 'quota'));
  assert.equal(await fleet.media.store.get(UNIT, 'seg-big'), undefined);
  // Every chunk right, the declared whole wrong: the fleet asks for all of it again.
  const liar = chunksOf(file, 'clip-3', 10_000, { sha256: sha(Buffer.from('not this file')) });
  for (const c of liar) await publish(unit.client, c);
  await waitFor(() => fleet.media.assembler.dropped.get('file-hash') === 1);
  await waitFor(() => unit.acks.some((a) => a.recording === 'clip-3' && a.state === 'partial' && a.have.length === 0));
  assert.equal((await fleet.media.store.get(UNIT, 'clip-3'))?.state, 'partial');
  // The intake is still serving.
  await publish(unit.client, second);
  await waitFor(() => unit.acks.some((a) => a.recording === 'clip-2' && a.state === 'complete'));
});

test('an alarm’s evidence chain is judged against the head the alarm carried; parts show as they arrive', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await mediaUnit(t, broker.url);
  const still = someFile(12_000);
  const alarmId = 'hrb-001:tamper:7';
  const entries: EvidenceEntry[] = [
    { part: 'position', ts: 1_763_856_000_000, lat: 45.7578, lon: 126.6425 },
    { part: 'readings', ts: 1_763_856_000_000, values: { tiltDeg: 31 } },
    { part: 'snapshot', ts: 1_763_856_000_300, recording: 'snap-7', bytes: still.length, sha256: sha(still).toString('hex') },
  ];
  const heads = await evidenceHeads(UNIT, alarmId, entries);
  const raisedHead = heads[2] as string; // the alarm went before the still was taken
  await send(unit.client, UNIT, 'alarm', {
    seq: 1,
    ts: 1_763_856_000_000,
    id: alarmId,
    kind: 'tamper',
    severity: 'critical',
    state: 'raised',
    evidence: raisedHead,
  });
  await send(unit.client, UNIT, 'evidence', { seq: 2, ts: 1_763_856_001_000, alarm: alarmId, entries, head: heads[3] as string });
  await waitFor(async () => (await fleet.media.evidence.status(UNIT, alarmId))?.chain === 'ok');
  let status = await fleet.media.evidence.status(UNIT, alarmId);
  assert.deepEqual(
    status?.parts.map((p) => [p.part, p.arrived]),
    [
      ['position', true],
      ['readings', true],
      ['snapshot', false],
    ],
  );
  for (const c of chunksOf(still, 'snap-7', 5000, { kind: 'snapshot', alarm: alarmId })) await publish(unit.client, c);
  await waitFor(() => unit.acks.some((a) => a.recording === 'snap-7' && a.state === 'complete'));
  status = (await (await fetch(`${fleet.base}/api/units/${UNIT}/alarms/${alarmId}/evidence`)).json()) as typeof status;
  assert.equal(status?.parts.at(-1)?.arrived, true);
  // A manifest whose early parts changed after the alarm vouched for them breaks the chain.
  const altered = entries.map((e) => (e.part === 'readings' ? { ...e, values: { tiltDeg: 3 } } : e));
  const alteredHeads = await evidenceHeads(UNIT, alarmId, altered);
  await send(unit.client, UNIT, 'evidence', {
    seq: 3,
    ts: 1_763_856_002_000,
    alarm: alarmId,
    entries: altered,
    head: alteredHeads[3] as string,
  });
  await waitFor(async () => (await fleet.media.evidence.status(UNIT, alarmId))?.chain === 'broken');
});

test('a clip a restart cut short shows as cut; one cut before it held anything never arrives', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, UNIT);
  const alarmId = 'hrb-001:tamper:8';
  const entries: EvidenceEntry[] = [
    { part: 'readings', ts: 1_763_856_000_000, values: { tamper: 1 } },
    { part: 'clip', ts: 1_763_856_000_000, cut: 'restart' },
  ];
  const heads = await evidenceHeads(UNIT, alarmId, entries);
  await send(unit, UNIT, 'evidence', { seq: 1, ts: 1_763_856_001_000, alarm: alarmId, entries, head: heads[2] as string });
  await waitFor(async () => (await fleet.media.evidence.status(UNIT, alarmId))?.chain === 'ok');
  const status = (await (await fetch(`${fleet.base}/api/units/${UNIT}/alarms/${alarmId}/evidence`)).json()) as {
    parts: { part: string; cut?: string; arrived: boolean }[];
  };
  assert.deepEqual(
    status.parts.map((p) => [p.part, p.cut, p.arrived]),
    [
      ['readings', undefined, true],
      ['clip', 'restart', false],
    ],
  );
});
