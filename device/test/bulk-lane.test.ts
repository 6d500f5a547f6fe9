/**
 * The bulk lane against a real Aedes broker, through the simulator's link shaper where the rate
 * matters: media goes up as chunks that reassemble byte-identical; a cut in the middle of an
 * upload resumes without resending what the gateway had acknowledged; an alarm raised during an
 * upload over a 512 kbit/s 4G link is at the broker within 2 s; the satellite profile sends stills
 * only, inside its daily budget; eviction takes whole unpinned recordings and never an alarm clip
 * the fleet does not have yet. The link meter is read against a shaped link on a virtual clock
 * (`virtualLink`), the one place here where the machine's own speed would otherwise be measured.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { LinkShaper, systemClock } from '@shouwang/hardware';
import { decodeMessage, topics } from '@shouwang/protocol';
import { pino } from 'pino';
import { laneSizing, NOMINAL_RATE } from '../src/domain/bulk-lane.ts';
import { publishPacketBytes } from '../src/domain/upload-policy.ts';
import { type BulkLink, BulkSender } from '../src/services/bulk-sender.ts';
import { BulkStore } from '../src/services/bulk-store.ts';
import { startBroker, type TestBroker } from './broker.ts';
import { type Lane, type LaneOptions, openLane } from './lane.ts';
import { assembled, fileSha256, makeSegment, makeStill, receivedChunks, sha256 } from './media.ts';
import { until } from './wait.ts';

const UNIT = 'hrb-001';
/** 4G at 512 kbit/s: the thin cell edge the issue names. */
const THIN_4G = { bytesPerSecond: 64_000, latencyMs: 50 };

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bulk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startLane(t: TestContext, dir: string, url: string, o: LaneOptions = {}): Promise<Lane> {
  const lane = openLane(dir, url, o);
  t.after(() => lane.close());
  return lane;
}

async function shaped(t: TestContext, broker: TestBroker): Promise<{ shaper: LinkShaper; url: string }> {
  const shaper = new LinkShaper({ host: '127.0.0.1', port: broker.port }, THIN_4G);
  const { port } = await shaper.listen();
  t.after(() => shaper.close());
  return { shaper, url: `mqtt://127.0.0.1:${port}` };
}

test('a recorded segment goes up in chunks that reassemble byte-identical; the fleet’s complete ack frees it', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const lane = await startLane(t, dir, broker.url);
  const file = await makeSegment(dir, 'seg-1.ts', 4);
  const want = await fileSha256(file);
  const r = await lane.store.enqueueFile(file, { recording: 'seg-1', kind: 'segment', type: 'video/mp2t', startTs: 1_763_856_000_000 });
  assert.ok(r.accepted);
  lane.uplink.kick();
  await until('the whole file at the broker', () => assembled(receivedChunks(broker.received), 'seg-1') !== undefined);
  const chunks = receivedChunks(broker.received);
  assert.equal(sha256(assembled(chunks, 'seg-1') as Buffer), want);
  for (const c of chunks) assert.equal(sha256(c.data), Buffer.from(c.hash).toString('hex'), 'each chunk carries its own hash');
  assert.deepEqual(Buffer.from(chunks[0]?.sha256 ?? []).toString('hex'), want);
  assert.equal(chunks.find((c) => c.offset === 0)?.startTs, 1_763_856_000_000);
  // Nothing about media touched the message outbox.
  assert.equal(lane.outbox.size().count, 0);
  await until('all chunks acknowledged', () => lane.store.backlogBytes() === 0);
  assert.equal(await lane.store.applyAck({ recording: 'seg-1', state: 'complete', have: [] }), 'done');
  await assert.rejects(stat(file), 'the lane deletes a file the fleet holds');
  assert.equal(await lane.store.applyAck({ recording: 'seg-1', state: 'complete', have: [] }), 'unknown');
});

test('a file all sent with no word from the fleet has its last bytes sent again; a partial answer then brings the gaps', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const lane = await startLane(t, dir, broker.url, { ackTimeoutMs: 300 });
  const file = await makeSegment(dir, 'seg-4.ts', 2, 256);
  const size = (await stat(file)).size;
  assert.ok((await lane.store.enqueueFile(file, { recording: 'seg-4', kind: 'segment' })).accepted);
  lane.uplink.kick();
  await until('all of it acknowledged', () => lane.store.backlogBytes() === 0);
  const sent = receivedChunks(broker.received).length;
  const last = (c: { offset: number; data: Uint8Array }) => c.offset + c.data.length === size;
  await until('the last bytes again', () => receivedChunks(broker.received).slice(sent).some(last), 5000);
  assert.ok(
    receivedChunks(broker.received)
      .slice(sent)
      .every((c) => last(c) && c.data.length <= 1024),
    'only the last KiB, not the file',
  );
  // The fleet answers that it has only the first 1000 bytes: the rest goes again, nothing before it.
  const resentFrom = receivedChunks(broker.received).length;
  assert.equal(await lane.store.applyAck({ recording: 'seg-4', state: 'partial', have: [{ offset: 0, length: 1000 }] }), 'sending');
  lane.uplink.kick();
  const fromGap = () =>
    receivedChunks(broker.received)
      .slice(resentFrom)
      .filter((c) => !last(c) || c.offset >= 1000);
  await until('the gap at the broker', () => lane.store.backlogBytes() === 0 && fromGap().some((c) => c.offset === 1000));
  const again = fromGap();
  assert.ok(
    again.every((c) => c.offset >= 1000),
    JSON.stringify(again.map((c) => c.offset)),
  );
});

test('an upload the fleet abandoned goes again from offset 0 while the unit holds the file; one it no longer holds is dropped, counted', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const lane = await startLane(t, dir, broker.url);
  const file = await makeSegment(dir, 'clip-a.ts', 2, 256);
  const size = (await stat(file)).size;
  assert.ok((await lane.store.enqueueFile(file, { recording: 'clip-a', kind: 'clip', pinned: true })).accepted);
  // Its first half went up before a week in a dead zone (the gateway acknowledged it); the fleet has since given it up.
  lane.store.markSent(new Map([['clip-a', [{ offset: 0, length: Math.floor(size / 2) }]]]));
  assert.equal(await lane.store.applyAck({ recording: 'clip-a', state: 'abandoned', have: [] }), 'sending');
  assert.deepEqual(lane.store.get('clip-a')?.sent, [], 'nothing counts as sent');
  assert.equal(lane.store.restarted, 1);
  lane.uplink.kick();
  await until(
    'the whole file at the broker, from its first byte',
    () => assembled(receivedChunks(broker.received), 'clip-a') !== undefined,
  );
  assert.equal(sha256(assembled(receivedChunks(broker.received), 'clip-a') as Buffer), await fileSha256(file));

  // A recording whose file is gone (or cut short) cannot be sent again: dropped with its reason.
  const gone = await makeSegment(dir, 'seg-g.ts', 1, 256);
  assert.ok((await lane.store.enqueueFile(gone, { recording: 'seg-g', kind: 'segment' })).accepted);
  await truncate(gone, 100);
  assert.equal(await lane.store.applyAck({ recording: 'seg-g', state: 'abandoned', have: [] }), 'done');
  assert.equal(lane.store.get('seg-g'), undefined);
  assert.equal(lane.store.dropped.get('abandoned'), 1);
  assert.equal(await lane.store.applyAck({ recording: 'seg-g', state: 'abandoned', have: [] }), 'unknown');
});

test('a cut in the middle of an upload resumes without resending the chunks the gateway acknowledged', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const { url } = await shaped(t, broker);
  const lane = await startLane(t, dir, url);
  const file = await makeSegment(dir, 'seg-2.ts', 6);
  const size = (await stat(file)).size;
  assert.ok((await lane.store.enqueueFile(file, { recording: 'seg-2', kind: 'segment' })).accepted);
  lane.uplink.kick();
  await until('a third of the file acknowledged', () => size - lane.store.backlogBytes() > size / 3, 20_000);
  await broker.cut();
  lane.sender.commit();
  const completed = lane.store.get('seg-2')?.sent ?? [];
  const before = receivedChunks(broker.received).length;
  await broker.restore();
  await until('the whole file at the broker', () => assembled(receivedChunks(broker.received), 'seg-2') !== undefined, 30_000);
  assert.equal(sha256(assembled(receivedChunks(broker.received), 'seg-2') as Buffer), await fileSha256(file));
  const after = receivedChunks(broker.received).slice(before);
  const resent = after.filter((c) => completed.some((r) => c.offset >= r.offset && c.offset < r.offset + r.length));
  assert.deepEqual(
    resent.map((c) => c.offset),
    [],
    'no chunk acknowledged before the cut went again',
  );
  t.diagnostic(`${before} chunks before the cut, ${after.length} after; ${size} B`);
});

test('an alarm raised while a clip uploads over 4G at 512 kbit/s is at the broker within 2 s', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const { url } = await shaped(t, broker);
  const lane = await startLane(t, dir, url);
  const clip = await makeSegment(dir, 'clip-1.ts', 12, 768);
  assert.ok((await lane.store.enqueueFile(clip, { recording: 'clip-1', kind: 'clip', pinned: true })).accepted);
  lane.uplink.kick();
  await until('the upload under way', () => receivedChunks(broker.received).length >= 3, 20_000);
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const a = lane.outbox.enqueue('alarm', { ts: t0, id: `a-${i}`, kind: 'tamper', severity: 'critical', state: 'raised' });
    lane.uplink.kick();
    await until(`alarm ${i} at the broker`, () => broker.received.some((r) => isAlarm(r, a.seq)), 10_000);
    latencies.push(Date.now() - t0);
    assert.ok(lane.store.backlogBytes() > 0, 'the clip was still uploading');
    await new Promise((r) => setTimeout(r, 700));
  }
  t.diagnostic(`alarm latencies during the upload: ${latencies.join(', ')} ms`);
  assert.ok(Math.max(...latencies) < 2000, `alarm took ${Math.max(...latencies)} ms`);
  const { windowBytes } = lane.sender.sizing(NOMINAL_RATE.lte);
  assert.ok(windowBytes <= laneSizing(THIN_4G.bytesPerSecond * 2, 1000).windowBytes, `window ${windowBytes} B follows the measured rate`);
});

/**
 * A link shaped as hardware's LinkShaper shapes one — bytes go one after another at its rate, each
 * way takes `latencyMs` — on a virtual clock: a chunk's PUBACK comes once the link has carried it
 * and the ack has come back. `settle()` moves the clock from PUBACK to PUBACK, each time only once
 * the lane has handed the link every chunk its window lets go, so what the meter reads is the
 * link's timing and none of the machine's (a parallel benchmark once made a real shaper on a
 * loaded machine read 512 kbit/s as 232).
 */
function virtualLink(profile: { bytesPerSecond: number; latencyMs: number }) {
  let now = 0;
  let busyUntil = 0;
  const acks: { due: number; puback: () => void }[] = [];
  const link: BulkLink = {
    nominalRate: NOMINAL_RATE.lte,
    spend: () => true,
    publish(topic, payload) {
      busyUntil = Math.max(busyUntil, now) + (publishPacketBytes(topic, payload.length, 1) * 1000) / profile.bytesPerSecond;
      const due = busyUntil + 2 * profile.latencyMs;
      return new Promise((puback) => acks.push({ due, puback: () => puback() }));
    },
  };
  return {
    link,
    now: () => now,
    /** The lane idle for `ms`: nothing on the link. */
    pass(ms: number) {
      now += ms;
    },
    async settle(sender: BulkSender): Promise<void> {
      for (;;) {
        await sender.idle();
        acks.sort((a, b) => a.due - b.due);
        const next = acks.shift();
        if (!next) return;
        now = Math.max(now, next.due);
        next.puback();
        // Its PUBACK handled (the lane woken), then the commit of its range that schedules (an immediate of its own).
        await new Promise(setImmediate);
        await new Promise(setImmediate);
      }
    },
  };
}

for (const kbps of [512, 128]) {
  test(`a link the lane does not fill reads at its rate, not its round trip: each burst opens with a probe chunk (${kbps} kbit/s)`, async (t) => {
    const dir = await tempDir(t);
    const profile = { bytesPerSecond: (kbps * 1000) / 8, latencyMs: THIN_4G.latencyMs };
    const shaped = virtualLink(profile);
    const store = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 100_000_000, now: Date.now });
    const sender = new BulkSender({
      unitId: UNIT,
      store,
      clock: systemClock,
      log: pino({ level: 'silent' }),
      alarmWaitMs: 1000,
      liveMaxAgeMs: 5000,
      ackTimeoutMs: 60_000,
      linkNow: shaped.now,
    });
    sender.wake = () => sender.pump(shaped.link);
    t.after(() => {
      sender.close();
      store.close();
    });
    // A live feed's pace: a 22 kB file, sent whole, then the lane idle until the next.
    for (let i = 0; i < 6; i++) {
      const path = join(dir, `seg-${i}.ts`);
      await writeFile(path, Buffer.alloc(22_000, i + 1));
      assert.ok((await store.enqueueFile(path, { recording: `seg-${i}`, kind: 'segment' })).accepted);
      sender.pump(shaped.link);
      await shaped.settle(sender);
      assert.equal(store.backlogBytes(), 0, `seg-${i} acknowledged`);
      shaped.pass(1000);
    }
    const rate = sender.measuredRate() ?? 0;
    t.diagnostic(`measured ${((rate * 8) / 1000).toFixed(1)} kbit/s on a ${kbps} kbit/s link`);
    // Timed from its send, a lone 22 kB chunk at 512 kbit/s takes 344 ms on the wire plus a 100 ms round trip: it would read ~400 kbit/s.
    assert.ok(Math.abs(rate - profile.bytesPerSecond) < 0.01 * profile.bytesPerSecond, `measured ${rate.toFixed(0)} B/s`);
  });
}

function isAlarm(r: { topic: string; payload: Buffer }, seq: number): boolean {
  if (r.topic !== topics.uplink(UNIT, 'alarm')) return false;
  const m = decodeMessage(r.topic, r.payload);
  return m.ok && m.value.type === 'uplink' && m.value.kind === 'alarm' && m.value.payload.seq === seq;
}

test('a live segment goes before everything else; one too old to play is dropped, not sent', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  let lag = 0;
  const lane = await startLane(t, dir, broker.url, { now: () => Date.now() - lag });
  await lane.uplink.delivered(lane.outbox.enqueue('event', { ts: Date.now(), kind: 'boot' }).seq);
  const clip = await makeSegment(dir, 'clip-l.ts', 2, 256);
  const stale = await makeSegment(dir, 'live-0.ts', 1, 256);
  const fresh = await makeSegment(dir, 'live-1.ts', 1, 256);
  // Enqueued while the radio is off, so the lane chooses among all three at once.
  await lane.uplink.setAllowed(false);
  assert.ok((await lane.store.enqueueFile(clip, { recording: 'clip-l', kind: 'clip', pinned: true })).accepted);
  lag = 10_000;
  assert.ok((await lane.store.enqueueFile(stale, { recording: 'live-0', kind: 'live' })).accepted);
  lag = 0;
  assert.ok((await lane.store.enqueueFile(fresh, { recording: 'live-1', kind: 'live' })).accepted);
  await lane.uplink.setAllowed(true);
  await until('the clip at the broker', () => assembled(receivedChunks(broker.received), 'clip-l') !== undefined);
  const order = receivedChunks(broker.received).map((c) => c.recording);
  assert.ok(!order.includes('live-0'), 'the stale live segment was not sent');
  assert.equal(order[0], 'live-1', 'live first');
  assert.ok(order.lastIndexOf('live-1') < order.indexOf('clip-l'), 'the whole live segment before the clip');
  assert.equal(lane.store.dropped.get('stale-live'), 1);
  await assert.rejects(stat(stale), 'the dropped segment’s file is gone');
});

test('satellite: stills only, inside the daily budget; video waits for a cellular link', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  const budget = 6800;
  const lane = await startLane(t, dir, broker.url, { link: 'satellite', budget });
  const seg = await makeSegment(dir, 'seg-3.ts', 1, 128);
  const still = await makeStill(dir, 'snap-1.jpg', '96x72');
  const big = await makeStill(dir, 'snap-2.jpg', '640x480');
  assert.ok((await lane.store.enqueueFile(seg, { recording: 'seg-3', kind: 'segment' })).accepted);
  assert.ok((await lane.store.enqueueFile(still, { recording: 'snap-1', kind: 'snapshot', pinned: true })).accepted);
  assert.ok((await lane.store.enqueueFile(big, { recording: 'snap-2', kind: 'snapshot', pinned: true })).accepted);
  assert.ok((await stat(big)).size > budget, 'the second still is more than a day’s budget');
  lane.uplink.kick();
  await until('the small still at the broker', () => assembled(receivedChunks(broker.received), 'snap-1') !== undefined);
  // The lane stops when the next chunk would pass the share of the budget not held for alarms.
  const { chunkBytes } = lane.sender.sizing(NOMINAL_RATE.satellite);
  await until('the day’s budget spent', () => lane.uplink.stats.bytesToday + chunkBytes + 256 > budget - budget / 4);
  // Give the lane a moment to (wrongly) send more, then look.
  await new Promise((r) => setTimeout(r, 300));
  const chunks = receivedChunks(broker.received);
  assert.deepEqual([...new Set(chunks.map((c) => c.kind))], ['snapshot'], 'no video over satellite');
  assert.equal(sha256(assembled(chunks, 'snap-1') as Buffer), await fileSha256(still));
  assert.ok(lane.uplink.stats.bytesToday <= budget - Math.floor(budget / 4), `${lane.uplink.stats.bytesToday} B used of ${budget}`);
  assert.equal(assembled(chunks, 'snap-2'), undefined, 'the big still waits for tomorrow’s budget');
  assert.ok(lane.store.get('seg-3'), 'the segment is kept for a cellular link');
});

test('eviction takes whole unpinned recordings, oldest first, and never an alarm clip before the fleet has it', async (t) => {
  const dir = await tempDir(t);
  const store = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 1_000_000, now: () => Date.now() });
  const file = async (name: string, bytes: number) => {
    const p = join(dir, name);
    await writeFile(p, Buffer.alloc(bytes, name.length));
    return p;
  };
  assert.ok((await store.enqueueFile(await file('clip-a', 600_000), { recording: 'clip-a', kind: 'clip', pinned: true })).accepted);
  assert.ok((await store.enqueueFile(await file('seg-a', 150_000), { recording: 'seg-a', kind: 'segment' })).accepted);
  assert.ok((await store.enqueueFile(await file('seg-b', 150_000), { recording: 'seg-b', kind: 'segment' })).accepted);
  const r = await store.enqueueFile(await file('seg-c', 150_000), { recording: 'seg-c', kind: 'segment' });
  assert.ok(r.accepted && r.evicted.join() === 'seg-a', JSON.stringify(r));
  await assert.rejects(stat(join(dir, 'seg-a')), 'an evicted recording goes with its file');
  // A second clip over quota: every unpinned recording goes, the first clip stays, the new one is taken.
  const c = await store.enqueueFile(await file('clip-b', 500_000), { recording: 'clip-b', kind: 'clip', pinned: true });
  assert.ok(c.accepted && c.evicted.sort().join() === 'seg-b,seg-c', JSON.stringify(c));
  assert.deepEqual(
    store.list().map((i) => i.recording),
    ['clip-a', 'clip-b'],
  );
  // Only pinned clips left and no room: an unpinned segment is refused, not a clip evicted.
  const s = await store.enqueueFile(await file('seg-d', 10_000), { recording: 'seg-d', kind: 'segment' });
  assert.deepEqual(s, { accepted: false, reason: 'quota' });
  assert.equal(store.dropped.get('evicted'), 3);
  // Once the fleet holds a clip, it leaves and makes room.
  assert.equal(await store.applyAck({ recording: 'clip-a', state: 'complete', have: [] }), 'done');
  assert.ok((await store.enqueueFile(await file('seg-e', 10_000), { recording: 'seg-e', kind: 'segment' })).accepted);
  // And the index survives a restart.
  store.close();
  const again = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 1_000_000, now: () => Date.now() });
  t.after(() => again.close());
  assert.deepEqual(
    again.list().map((i) => [i.recording, i.pinned]),
    [
      ['clip-b', true],
      ['seg-e', false],
    ],
  );
});
