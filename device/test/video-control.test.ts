/**
 * Video on the unit end to end below the uplink: the simulator's camera recorded by real ffmpeg,
 * finished files handed to the real bulk lane store, messages to the real outbox.
 *   `unit(t, situation)` starts one VideoControl on a simulated board (1 s ring segments, 2 s of
 *   pre-roll, 2 s of post-roll); `situation` is mutable: the rung and link the ladder reads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { boardDefinition, openBoard, systemClock } from '@shouwang/hardware';
import { evidenceHeads, type LinkType, type PowerState, type UplinkPayload } from '@shouwang/protocol';
import { LIVE_STEPS, type LiveLinkReading, SETTLE_MS } from '../src/domain/live-rate.ts';
import { raiseEntries } from '../src/domain/ring-evidence.ts';
import { videoPlan } from '../src/domain/video-ladder.ts';
import { BulkStore } from '../src/services/bulk-store.ts';
import { Outbox } from '../src/services/outbox.ts';
import { VideoControl } from '../src/services/recorder-control.ts';
import type { Segment } from '../src/services/ring.ts';
import { codecs, probe, quietLog } from './video.ts';
import { until } from './wait.ts';

const UNIT = 'hrb-171';
const run = promisify(execFile);

async function unit(t: TestContext, situation: { powerState: PowerState; link: LinkType }, liveLink?: LiveLinkReading) {
  const dir = await mkdtemp(join(tmpdir(), 'sw-video-'));
  const board = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: {
      unitId: UNIT,
      site: { lat: 45.75, lon: 126.63 },
      scenario: 'harbin-winter',
      link: situation.link === 'satellite' ? 'satellite' : 'lte',
      clock: systemClock,
    },
  });
  const bulk = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 1 << 30, now: () => Date.now() });
  const outbox = Outbox.open(join(dir, 'outbox.db'), { quotaBytes: 1 << 30 });
  const video = new VideoControl({
    unitId: UNIT,
    dir: join(dir, 'video'),
    source: { kind: 'camera', camera: board.camera },
    speaker: board.speaker,
    sink: bulk,
    outbox,
    clock: systemClock,
    log: quietLog(),
    ringQuotaBytes: 64 * 1024 * 1024,
    segmentS: 1,
    preRollS: 2,
    postRollS: 2,
    stockDir: join(dir, 'stock'),
    plan: () => videoPlan({ ...situation, now: Date.now(), bytesMonth: 0, planBytes: 2e9 }),
    backlog: () => ({ bytes: bulk.backlogBytes(), pinned: bulk.list().filter((i) => i.pinned).length }),
    situation: () => situation,
    liveLink: () => liveLink ?? { linkKbps: undefined, backlogMs: 0, staleDropped: bulk.dropped.get('stale-live') },
    linkClock: systemClock,
  });
  // One hook, in order: the recorder first, then what it writes to, the board, the files.
  t.after(async () => {
    await video.close();
    bulk.close();
    outbox.close();
    await board.close();
    await rm(dir, { recursive: true, force: true });
  });
  const segments: Segment[] = [];
  video.recorder.on('segment', (s) => segments.push(s));
  return { dir, board, bulk, outbox, video, segments };
}

const messages = <K extends 'evidence' | 'video'>(outbox: Outbox, kind: K) =>
  outbox.next(1000, { kinds: [kind] }).map((r) => r.payload as UplinkPayload<K>);

test('an alarm gets a clip (pre-roll from the ring + post-roll) that decodes, a still, and evidence whose chain checks', {
  timeout: 90_000,
}, async (t) => {
  const u = await unit(t, { powerState: 'full', link: 'lte' });
  await u.video.start();
  await until('the ring has its pre-roll', () => u.segments.length >= 3, 30_000);
  const a = { id: 'tamper:t5x1', ts: Date.now(), lat: 45.75, lon: 126.63, values: { soc: 71.2, tamper: 1 } };
  const head = u.video.alarm(a);

  await until(
    'the clip and the still are with the upload lane',
    () => u.bulk.get('clip-tamper-t5x1') !== undefined && u.bulk.get('snap-tamper-t5x1') !== undefined,
    30_000,
  );
  const clip = u.bulk.get('clip-tamper-t5x1');
  const still = u.bulk.get('snap-tamper-t5x1');
  assert.ok(clip && still);
  assert.equal(clip.pinned, true, 'an alarm clip is pinned until the fleet has it');
  assert.equal(still.pinned, true);
  const p = await probe(clip.path);
  assert.deepEqual(codecs(p), ['audio:aac', 'video:h264']);
  assert.ok(p.durationS > 3 && p.durationS < 6, `clip lasts ${p.durationS} s (2 s pre-roll + 2 s post-roll)`);
  await u.video.apply();
  assert.equal(messages(u.outbox, 'video').at(-1)?.pinned, 2, 'the status counts the evidence waiting for the fleet');
  // The clip's pins are gone from the ring once the lane holds it.
  assert.deepEqual(u.video.ring.clipIds(), []);

  const [ev] = messages(u.outbox, 'evidence');
  assert.ok(ev);
  assert.deepEqual(
    ev.entries.map((e) => e.part),
    ['position', 'readings', 'snapshot', 'clip'],
  );
  const heads = await evidenceHeads(UNIT, a.id, ev.entries);
  assert.equal(ev.head, heads[heads.length - 1], 'the message head is the chain over its entries');
  assert.equal(head, heads[raiseEntries(a).length], "the alarm's head is the chain's prefix at raise time");
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  assert.equal(ev.entries[3]?.sha256, sha(clip.path));
  assert.equal(ev.entries[2]?.sha256, sha(still.path));
});

test('live: short segments go to the lane as live while the feed runs, then the ring goes back to its own', {
  timeout: 90_000,
}, async (t) => {
  const u = await unit(t, { powerState: 'full', link: 'lte' });
  await u.video.start();
  await until('recording', () => u.segments.length >= 1, 30_000);
  const r = u.video.liveStart({ forS: 30, segmentMs: 500 });
  assert.equal(r.state, 'live');
  if (r.state !== 'live') return;
  assert.equal(r.segmentMs, 500);
  const live = () => u.bulk.list().filter((i) => i.kind === 'live');
  await until('three live segments with the lane', () => live().length >= 3, 30_000);
  for (const item of live().slice(1, 3)) {
    const p = await probe(item.path);
    assert.deepEqual(codecs(p), ['audio:aac', 'video:h264']);
    assert.ok(p.durationS < 0.8, `a live segment lasts ${p.durationS} s`);
  }
  assert.equal(messages(u.outbox, 'video').at(-1)?.live, r.feed);
  assert.deepEqual(u.video.liveStop({ feed: r.feed }), { state: 'stopped' });
  assert.deepEqual(u.video.liveStop({ feed: r.feed }), { state: 'unknown' });
  await until('the camera reported off the feed', () => messages(u.outbox, 'video').at(-1)?.live === undefined, 10_000);
  assert.equal(u.video.recorder.current?.segmentS, 1, 'the recorder is back on its ring profile');
});

test("live: the segment a rate change cuts short is listed with its own length, as ffprobe reads it, not the feed's 1 s", {
  timeout: 90_000,
}, async (t) => {
  // A measured 2 Mbit/s link: the feed starts on the richest step; then segments queue and it steps down.
  const link: LiveLinkReading = { linkKbps: 2000, backlogMs: 0, staleDropped: 0 };
  const u = await unit(t, { powerState: 'full', link: 'lte' }, link);
  await u.video.start();
  const r = u.video.liveStart({ forS: 60, segmentMs: 1000 });
  assert.ok(r.state === 'live', JSON.stringify(r));
  const live = () => u.bulk.list().filter((i) => i.kind === 'live');
  await until('the feed settled on its first step', () => live().length >= Math.ceil(SETTLE_MS / 1000) + 1, 30_000);
  assert.equal(u.video.live.current?.kbps, LIVE_STEPS[0]?.kbps);
  link.backlogMs = 5_000;
  await until('the feed stepped down', () => u.video.live.current?.kbps === LIVE_STEPS[1]?.kbps, 30_000);
  const stepped = live().length;
  await until('two segments at the new step', () => live().length >= stepped + 2, 30_000);
  const listed = await Promise.all(
    live().map(async (i) => ({ recording: i.recording, listedS: (i.meta.durationMs ?? 0) / 1000, realS: (await probe(i.path)).durationS })),
  );
  for (const s of listed)
    assert.ok(Math.abs(s.listedS - s.realS) < 0.15, `${s.recording} is listed as ${s.listedS} s and lasts ${s.realS} s`);
  assert.ok(
    listed.some((s) => s.realS < 0.9),
    `the step cut one segment short: ${listed.map((s) => `${s.recording} ${s.realS}`).join(', ')}`,
  );
});

test('live is refused with the reason on satellite and in critical power, naming the latest still', { timeout: 60_000 }, async (t) => {
  const situation = { powerState: 'full' as PowerState, link: 'satellite' as LinkType };
  const u = await unit(t, situation);
  await u.video.start();
  assert.equal(u.video.recorder.running, false, 'no video recorded on satellite');
  u.video.scheduledSnapshot(Date.now());
  await until('a still', () => u.video.snapshots.latest !== undefined, 30_000);
  const still = u.bulk.get(u.video.snapshots.latest as string);
  assert.ok(still);
  assert.ok(still.size < 6800, `a satellite still is ${still.size} B`);
  assert.deepEqual(u.video.liveStart({}), {
    state: 'refused',
    reason: 'satellite',
    detail: 'satellite link: no video',
    snapshot: u.video.snapshots.latest,
  });
  situation.link = 'lte';
  situation.powerState = 'deep-sleep';
  const r = u.video.liveStart({});
  assert.equal(r.state, 'refused');
  assert.equal(r.state === 'refused' && r.reason, 'critical-power');
});

test('critical power stops the recorder', { timeout: 60_000 }, async (t) => {
  const situation = { powerState: 'full' as PowerState, link: 'lte' as LinkType };
  const u = await unit(t, situation);
  await u.video.start();
  await until('recording', () => u.segments.length >= 1, 30_000);
  situation.powerState = 'satellite-digest';
  await u.video.apply();
  assert.equal(u.video.recorder.running, false);
  assert.equal(messages(u.outbox, 'video').at(-1)?.mode, 'off');
  assert.equal(messages(u.outbox, 'video').at(-1)?.reason, 'critical-power');
});

test('talk-down: a recorded message reaches the simulated speaker; refusals say why', { timeout: 60_000 }, async (t) => {
  const situation = { powerState: 'full' as PowerState, link: 'lte' as LinkType };
  const u = await unit(t, situation);
  // What the browser would send: a short Opus recording.
  const file = join(u.dir, 'message.ogg');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=600:duration=1.5',
    '-c:a',
    'libopus',
    file,
  ]);
  const audio = readFileSync(file);
  const r = u.video.playTalkDown({ audio, type: 'audio/ogg', durationMs: 1500 });
  assert.equal(r.state, 'playing');
  await u.video.talkDown.idle();
  const played = u.board.sim.truth().speaker;
  assert.equal(played.length, 1);
  assert.equal(played[0]?.sha256, createHash('sha256').update(audio).digest('hex'));
  assert.ok((played[0]?.durationS ?? 0) > 1.3, 'the speaker decoded the whole message');

  assert.deepEqual(u.video.playTalkDown({ stock: 'leave-area' }), {
    state: 'refused',
    reason: 'speaker-fault',
    detail: `stock message leave-area is not installed in ${join(u.dir, 'stock')}`,
  });
  situation.link = 'satellite';
  assert.equal((u.video.playTalkDown({ audio, type: 'audio/ogg', durationMs: 1500 }) as { reason?: string }).reason, 'satellite');
  situation.link = 'lte';
  situation.powerState = 'deep-sleep';
  assert.deepEqual(u.video.playTalkDown({ audio, type: 'audio/ogg', durationMs: 1500 }), {
    state: 'refused',
    reason: 'critical-power',
    detail: 'power rung deep-sleep: speaker off',
  });
  assert.equal(u.board.sim.truth().speaker.length, 1, 'nothing refused was played');
});
