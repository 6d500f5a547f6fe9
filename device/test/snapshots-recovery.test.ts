/**
 * An alarm's still across a cut, with real ffmpeg grabbing from a test pattern, the real bulk lane
 * store and outbox. The cut comes where the issue puts it: ffmpeg has written the still and the
 * lane has not committed it (`dyingLane`: its enqueue never returns, as a process killed in it
 * never hears back); the stores are closed as a kill leaves them (committed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CameraSource, systemClock } from '@shouwang/hardware';
import { type Evidence, evidenceHeads } from '@shouwang/protocol';
import { evidenceHead, mediaIdFor, type RaisedAlarm, raiseEntries } from '../src/domain/ring-evidence.ts';
import { videoPlan } from '../src/domain/video-ladder.ts';
import { Clips, type MediaSink } from '../src/services/clips.ts';
import type { Outbox } from '../src/services/outbox.ts';
import { VideoControl } from '../src/services/recorder-control.ts';
import { Ring, segName } from '../src/services/ring.ts';
import { Snapshots, type Still, stillEntry } from '../src/services/snapshots.ts';
import { capture } from './log-capture.ts';
import { sha256 } from './media.ts';
import { tempDir, unitStores } from './unit-stores.ts';
import { quietLog, simCamera } from './video.ts';
import { until } from './wait.ts';

const UNIT = 'hrb-173';
const ALARM: RaisedAlarm = { id: 'tamper:cut', ts: 1_790_000_000_000, lat: 45.75, lon: 126.63, values: { soc: 71, tamper: 1 } };
const SNAP = mediaIdFor('snap', ALARM.id);
const INPUT = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=5'];
const SIZE = { width: 160, height: 120, quality: 5 };

/** A lane the process dies in: the still's enqueue is called and never comes back. */
function dyingLane(): MediaSink & { called: boolean } {
  const sink = {
    called: false,
    enqueueFile: () => {
      sink.called = true;
      return new Promise<never>(() => undefined);
    },
  };
  return sink;
}

const stillsDir = (d: string) => join(d, 'video', 'stills');

async function assertChain(e: Omit<Evidence, 'seq'>): Promise<void> {
  const heads = await evidenceHeads(UNIT, ALARM.id, e.entries);
  assert.equal(heads.at(-1), e.head);
  assert.ok(heads.includes(evidenceHead(UNIT, ALARM.id, raiseEntries(ALARM))), 'passes through the alarm’s head');
}

test('a still grabbed for an alarm and cut off before the lane held it is queued pinned at the next start and joins the clip the cut interrupted', async (t) => {
  const d = await tempDir(t, 'sw-stills-');
  const before = unitStores(t, d);
  const ring = new Ring(join(d, 'video'), 1 << 30);
  ring.open();
  const clips = new Clips({
    ring,
    sink: before.bulk,
    outbox: before.outbox,
    unitId: UNIT,
    outDir: join(d, 'video', 'out'),
    log: quietLog(),
  });
  for (const n of [0, 1]) {
    writeFileSync(join(ring.ringDir, segName(n, 'part')), Buffer.alloc(2000, n));
    ring.complete(n, 1000);
  }
  clips.start(ALARM, { preRoll: 2, postRoll: 3, segmentMs: 1000 });
  const lane = dyingLane();
  const deliver = (s: Still) => {
    if (s.for) clips.add(s.for.alarm, stillEntry(s));
  };
  const cut = new Snapshots({ dir: stillsDir(d), input: INPUT, sink: lane, log: quietLog(), deliver, latestSegment: () => undefined });
  void cut.take(ALARM.ts, SIZE, { alarm: ALARM.id });
  await until('the still grabbed and handed to the lane', () => lane.called, 20_000);
  // And a grab a cut stopped half-way: ffmpeg's file is not a still.
  writeFileSync(join(stillsDir(d), `snap-cut-short.part.jpg`), Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
  before.stop();

  const after = unitStores(t, d);
  const ring2 = new Ring(join(d, 'video'), 1 << 30);
  ring2.open();
  const clips2 = new Clips({
    ring: ring2,
    sink: after.bulk,
    outbox: after.outbox,
    unitId: UNIT,
    outDir: join(d, 'video', 'out'),
    log: quietLog(),
  });
  const { log, lines } = capture('info');
  const stills = new Snapshots({
    dir: stillsDir(d),
    input: INPUT,
    sink: after.bulk,
    log,
    deliver: (s) => {
      if (s.for) assert.ok(clips2.add(s.for.alarm, stillEntry(s)), 'the interrupted clip took it');
    },
    latestSegment: () => undefined,
  });
  assert.deepEqual(await stills.recover(), { queued: 1, partial: 1, lost: 0 });
  assert.ok(lines.some((l) => l.msg === 'stills settled after an interrupted run' && l.partial === 1 && l.queued === 1));
  assert.equal(existsSync(join(stillsDir(d), 'snap-cut-short.part.jpg')), false, 'the half-written file is gone');

  const item = after.bulk.get(SNAP);
  assert.ok(item, 'the still is in the lane');
  assert.equal(item.pinned, true);
  assert.equal(item.meta.alarm, ALARM.id);
  assert.equal(item.meta.startTs, ALARM.ts);
  const jpeg = await readFile(item.path);
  assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
  assert.equal(item.sha256.toString('hex'), sha256(jpeg));

  await clips2.recover();
  const [e] = after.evidence();
  assert.ok(e);
  const snap = e.entries.find((x) => x.part === 'snapshot');
  assert.deepEqual(snap, { part: 'snapshot', ts: ALARM.ts, recording: SNAP, bytes: jpeg.length, sha256: sha256(jpeg) });
  await assertChain(e);

  // A second start finds nothing left to do.
  assert.deepEqual(await stills.recover(), { queued: 0, partial: 0, lost: 0 });
});

function videoUnit(d: string, sink: MediaSink, outbox: Outbox, camera: CameraSource) {
  return new VideoControl({
    unitId: UNIT,
    dir: join(d, 'video'),
    source: { kind: 'camera', camera },
    speaker: undefined,
    sink,
    outbox,
    clock: systemClock,
    log: quietLog(),
    ringQuotaBytes: 64 * 1024 * 1024,
    segmentS: 1,
    preRollS: 2,
    postRollS: 2,
    stockDir: join(d, 'stock'),
    // Satellite: stills, no clips; the still completes the evidence.
    plan: () => videoPlan({ powerState: 'full', link: 'satellite', now: Date.now(), bytesMonth: 0, planBytes: 2e9 }),
    situation: () => ({ powerState: 'full', link: 'satellite' }),
    liveLink: () => ({ linkKbps: undefined, backlogMs: 0, staleDropped: 0 }),
    linkClock: systemClock,
  });
}

test('with no clip coming, the still a cut kept from the lane is queued at the next start and sends the evidence it completes', async (t) => {
  const d = await tempDir(t, 'sw-stills-');
  const cam = await simCamera();
  t.after(() => cam.close());
  const before = unitStores(t, d);
  const lane = dyingLane();
  // Not closed: the agent is killed (its recorder is not running on this rung).
  const cut = videoUnit(d, lane, before.outbox, cam.camera);
  await cut.start();
  cut.alarm(ALARM);
  await until('the still grabbed and handed to the lane', () => lane.called, 20_000);
  assert.deepEqual(before.evidence(), [], 'nothing sent before the cut');
  before.stop();

  const after = unitStores(t, d);
  const video = videoUnit(d, after.bulk, after.outbox, cam.camera);
  t.after(() => video.close());
  await video.start();
  const item = after.bulk.get(SNAP);
  assert.ok(item, 'the still is in the lane');
  assert.equal(item.pinned, true);
  const jpeg = await readFile(item.path);
  const [e, more] = after.evidence();
  assert.ok(e);
  assert.equal(more, undefined);
  assert.deepEqual(e.entries, [
    ...raiseEntries(ALARM),
    { part: 'snapshot', ts: ALARM.ts, recording: SNAP, bytes: jpeg.length, sha256: sha256(jpeg) },
  ]);
  await assertChain(e);
});

test('a still whose grab a cut stopped before anything whole was written is counted lost and logged at the next start, not by the run still grabbing it', async (t) => {
  const d = await tempDir(t, 'sw-stills-');
  const before = unitStores(t, d);
  // A camera that never gives a frame: ffmpeg waits on the FIFO as on a stalled device.
  const fifoDir = await mkdtemp(join(tmpdir(), 'sw-camera-'));
  const fifo = join(fifoDir, 'camera.fifo');
  execFileSync('mkfifo', [fifo]);
  const stalled = new Snapshots({
    dir: stillsDir(d),
    input: ['-f', 'mjpeg', '-i', fifo],
    sink: before.bulk,
    log: quietLog(),
    latestSegment: () => undefined,
  });
  const grab = stalled.take(ALARM.ts, SIZE, { alarm: ALARM.id, raise: raiseEntries(ALARM) }).catch(() => 'failed');
  // Lets ffmpeg go: it finds no frame and fails, after the test.
  t.after(async () => {
    closeSync(openSync(fifo, 'w'));
    assert.equal(await grab, 'failed');
    await rm(fifoDir, { recursive: true, force: true });
  });
  await until('the still announced on disk', () => readdirSync(stillsDir(d)).length > 0, 5_000);
  assert.deepEqual(await stalled.recover(), { queued: 0, partial: 0, lost: 0 }, 'a grab of this run is no leftover');
  assert.ok(readdirSync(stillsDir(d)).some((n) => n.endsWith('.pending.json')));
  before.stop();

  const after = unitStores(t, d);
  const { log, lines } = capture('info');
  const stills = new Snapshots({ dir: stillsDir(d), input: INPUT, sink: after.bulk, log, latestSegment: () => undefined });
  assert.deepEqual(await stills.recover(), { queued: 0, partial: 0, lost: 1 });
  assert.ok(lines.some((l) => l.msg === 'still cut off mid-grab by a restart: none taken' && l.alarm === ALARM.id));
  assert.deepEqual(after.bulk.list(), []);
  assert.deepEqual(await stills.recover(), { queued: 0, partial: 0, lost: 0 }, 'counted once');
});
