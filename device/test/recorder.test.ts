/**
 * The ring recorder against real ffmpeg and ffprobe: segments decode with their video and audio
 * tracks; a kill -9 of the recording process group (agent and ffmpeg, a power cut) leaves a ring
 * whose every kept segment plays and which lost at most the segment being written; a live feed's
 * rate change restarts the encoder on the same timeline.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Recorder, recorderArgs } from '../src/services/recorder.ts';
import { Ring, type Segment } from '../src/services/ring.ts';
import { codecs, probe, quietLog, simCamera } from './video.ts';
import { until } from './wait.ts';

const WRITER = fileURLToPath(new URL('./fixtures/recorder-writer.ts', import.meta.url));

/** A recorder on the simulator's camera into a fresh ring, and the segments it reports. */
async function recording(t: TestContext): Promise<{ recorder: Recorder; got: Segment[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-rec-'));
  const cam = await simCamera();
  const ring = new Ring(dir, 1 << 30);
  ring.open();
  const recorder = new Recorder({ source: { kind: 'camera', camera: cam.camera }, ring, log: quietLog() });
  t.after(async () => {
    await recorder.stop();
    await cam.close();
    await rm(dir, { recursive: true, force: true });
  });
  const got: Segment[] = [];
  recorder.on('segment', (s) => got.push(s));
  return { recorder, got };
}

test('segments from the simulated camera decode, H.264 video with its AAC audio, numbered on across restarts', {
  timeout: 60_000,
}, async (t) => {
  const { recorder, got } = await recording(t);
  await recorder.set({ kbps: 256, fps: 10, segmentS: 1 });
  await until('three segments', () => got.length >= 3, 30_000);
  await recorder.stop();

  for (const [i, s] of got.entries()) {
    const p = await probe(s.path);
    assert.deepEqual(codecs(p), ['audio:aac', 'video:h264'], s.path);
    // The last one is what ffmpeg closed when told to stop: shorter.
    if (i < 3) assert.ok(p.durationS > 0.8 && p.durationS < 1.3, `${s.path} lasts ${p.durationS} s`);
  }
  assert.deepEqual(
    got.map((s) => s.n),
    got.map((_, i) => i),
  );
  // The next run continues the numbering from the directory: no segment is overwritten.
  const lastOfFirst = got[got.length - 1]?.n ?? 0;
  const again: Segment[] = [];
  recorder.removeAllListeners('segment');
  recorder.on('segment', (s) => again.push(s));
  await recorder.set({ kbps: 256, fps: 10, segmentS: 1 });
  await until('a segment of the second run', () => again.length >= 1, 30_000);
  await recorder.stop();
  assert.equal(again[0]?.n, lastOfFirst + 1);
});

/** When a segment's first frame plays, s on the MPEG-TS clock (ffprobe's start_time). */
function startTime(file: string): Promise<number> {
  return new Promise((resolve, reject) =>
    execFile('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', file], (err, out) =>
      err ? reject(err) : resolve(Number(out.trim())),
    ),
  );
}

test('a live feed that changes rate keeps its timeline: the restarted encoder carries on the timestamps; another recording starts afresh', {
  timeout: 90_000,
}, async (t) => {
  const { recorder, got } = await recording(t);
  /** The first segment of the new run and the last of the one before (closed when the switch stopped it). */
  const run = async (profile: Parameters<Recorder['set']>[0], n: number) => {
    await recorder.set(profile);
    const from = got.length;
    await until(`${n} segments at ${JSON.stringify(profile)}`, () => got.length >= from + n, 30_000);
    return { first: await startTime((got[from] as Segment).path), before: from > 0 ? await startTime((got[from - 1] as Segment).path) : 0 };
  };
  await run({ kbps: 256, fps: 5, segmentS: 1, timeline: 'live-a' }, 3);
  const stepped = await run({ kbps: 128, fps: 5, audioKbps: 16, segmentS: 1, timeline: 'live-a' }, 2);
  assert.ok(stepped.before > 2, `the first run's last segment starts at ${stepped.before} s`);
  assert.ok(
    stepped.first > stepped.before,
    `the restarted encoder's first segment starts at ${stepped.first} s, after the last one before (${stepped.before} s)`,
  );
  const other = await run({ kbps: 128, fps: 5, segmentS: 1 }, 1);
  assert.ok(other.first < stepped.before, `a recording off the feed starts its own timeline (${other.first} s)`);
});

test('the board picks the encoder: the VideoCore one where the definition has it, libx264 otherwise', () => {
  const hw = recorderArgs(
    { kind: 'rtsp', url: 'rtsp://10.0.0.2/stream', encoder: 'h264_v4l2m2m' },
    { kbps: 512, fps: 10, segmentS: 2 },
    '/r',
    0,
  );
  assert.equal(hw[hw.indexOf('-c:v') + 1], 'h264_v4l2m2m');
  assert.ok(!hw.includes('-preset'), 'x264 presets are not given to the hardware encoder');
  assert.equal(hw[hw.indexOf('-g') + 1], '20', 'one keyframe per segment');
  const sw = recorderArgs({ kind: 'rtsp', url: 'rtsp://10.0.0.2/stream', encoder: 'libx264' }, { kbps: 256, fps: 5, segmentS: 1 }, '/r', 7);
  assert.equal(sw[sw.indexOf('-c:v') + 1], 'libx264');
  assert.equal(sw[sw.indexOf('-segment_start_number') + 1], '7');
});

function partWritten(path: string): boolean {
  try {
    return path.endsWith('.part') && statSync(path).size > 0;
  } catch {
    return false;
  }
}

function recordAndKill(t: TestContext, dir: string, segments: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    // Its own process group, so one kill reaches ffmpeg too: both die at the same instant, as on a power cut.
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    t.after(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const done: number[] = [];
    let killing = false;
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) done.push(Number(l));
      if (done.length < segments || killing) return;
      killing = true;
      // Mid-segment: wait until ffmpeg has written part of the segment after those reported.
      until('a segment half-written', () => readdirSync(join(dir, 'ring')).some((f) => partWritten(join(dir, 'ring', f)))).then(
        () => process.kill(-(child.pid as number), 'SIGKILL'),
        reject,
      );
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(done) : reject(new Error(`writer exited with ${signal}`))));
  });
}

test('kill -9 during recording, three times: every kept segment plays, at most the one being written is lost', {
  timeout: 120_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-rec-kill-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const reported: number[] = [];
  for (let run = 0; run < 3; run++) {
    reported.push(...(await recordAndKill(t, dir, 3)));
    const ring = new Ring(dir, 1 << 30);
    const report = ring.open();
    assert.ok(report.discarded.length <= 1, `discarded ${report.discarded.join(', ')}`);
    assert.equal(report.discarded.length, 1, 'the segment being written is detected as partial');
    const kept = ring.segments().map((s) => s.n);
    for (const n of reported) assert.ok(kept.includes(n), `segment ${n} was reported complete and is gone`);
    assert.deepEqual(
      readdirSync(ring.ringDir).filter((f) => f.endsWith('.part')),
      [],
    );
    for (const s of ring.segments()) {
      const p = await probe(s.path);
      assert.deepEqual(codecs(p), ['audio:aac', 'video:h264'], s.path);
    }
  }
});

/** ffmpeg processes recording into `dir` (by their command line). */
function recordersIn(dir: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd.startsWith('ffmpeg') && cmd.includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('kill -9 of the agent alone: its ffmpeg dies with it, and the next start discards only the partial segment', {
  timeout: 60_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-rec-orphan-'));
  const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    for (const pid of recordersIn(dir)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  let reported = 0;
  child.stdout.on('data', (c: Buffer) => {
    reported += c.toString().split('\n').filter(Boolean).length;
  });
  await until('two segments', () => reported >= 2, 30_000);
  assert.equal(recordersIn(dir).length, 1);
  child.kill('SIGKILL');
  await until('ffmpeg gone with the agent', () => recordersIn(dir).length === 0, 5000);
  const report = new Ring(dir, 1 << 30).open();
  assert.equal(report.discarded.length, 1);
});
