/**
 * Media end to end, on real processes talking only over MQTT and HTTP: a unit's agent on the
 * simulator uploads a segment recorded by ffmpeg (test pattern + 1 kHz tone) through the gateway
 * to the fleet's file store, byte-identical and decodable with its audio track, and deletes its
 * copy when the fleet says it holds it; an agent killed with SIGKILL in the middle of an upload
 * resumes after restart without resending a chunk the gateway had acknowledged.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { type ByteRange, decodeMessage, filters, firstGap } from '@shouwang/protocol';
import mqtt from 'mqtt';
import { BulkStore } from '../../device/src/services/bulk-store.ts';
import { fileSha256, makeSegment, sha256 } from '../../device/test/media.ts';
import { type RunningSystem, stopChild } from '../system.ts';
import { until } from './fleet-view.ts';
import { startTestSystem } from './harness.ts';

const run = promisify(execFile);

interface MediaView {
  recording: string;
  state: string;
  size: number;
  receivedBytes: number;
}

async function mediaOf(sys: RunningSystem, unitId: string): Promise<MediaView[]> {
  const res = await fetch(`http://127.0.0.1:${sys.httpPort}/api/units/${unitId}/media`);
  return ((await res.json()) as { media: MediaView[] }).media;
}

async function untilMedia(
  sys: RunningSystem,
  unitId: string,
  what: string,
  ok: (m: MediaView[]) => boolean,
  ms: number,
): Promise<MediaView[]> {
  const deadline = Date.now() + ms;
  let last: MediaView[] = [];
  while (Date.now() < deadline) {
    last = await mediaOf(sys, unitId);
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} not reached within ${ms} ms; last: ${JSON.stringify(last)}`);
}

/** Stops the unit's agent (SIGKILL: a power cut), hands files to its bulk lane, starts it again. */
async function withFiles(sys: RunningSystem, dataDir: string, files: { path: string; recording: string }[]): Promise<string[]> {
  const unit = sys.units[0];
  assert.ok(unit);
  unit.child.kill('SIGKILL');
  await stopChild(unit.child);
  const dir = join(dataDir, 'units', unit.id);
  const lane = BulkStore.open(join(dir, 'bulk.db'), { quotaBytes: 1 << 30, now: Date.now });
  const owned: string[] = [];
  for (const f of files) {
    const mine = join(dir, `${f.recording}.ts`);
    await copyFile(f.path, mine);
    const r = await lane.enqueueFile(mine, { recording: f.recording, kind: 'segment', type: 'video/mp2t', startTs: Date.now() });
    assert.ok(r.accepted);
    owned.push(mine);
  }
  lane.close();
  sys.units[0] = await sys.startUnit(0, unit.password);
  return owned;
}

async function online(sys: RunningSystem): Promise<void> {
  await until<{ online: boolean }>(sys, 'the unit online', (us) => us.length === 1 && us[0]?.online === true, 60_000);
}

test('a recorded segment reaches the fleet’s store byte-identical and decodes with its audio track', { timeout: 120_000 }, async (t) => {
  const { sys, dataDir } = await startTestSystem(t, { units: 1 });
  await online(sys);
  const segment = await makeSegment(dataDir, 'source.ts', 10, 1000);
  const [copy] = await withFiles(sys, dataDir, [{ path: segment, recording: 'seg-e2e-1' }]);
  const id = sys.units[0]?.id as string;
  await untilMedia(sys, id, 'the segment stored', (m) => m[0]?.state === 'complete', 60_000);
  const stored = join(dataDir, 'fleet', 'media', 'store', id, 'seg-e2e-1');
  assert.equal(await fileSha256(stored), await fileSha256(segment), 'byte-identical');
  const probe = JSON.parse((await run('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', stored])).stdout) as {
    streams: { codec_type: string; codec_name: string }[];
  };
  assert.deepEqual(probe.streams.map((s) => `${s.codec_type}/${s.codec_name}`).sort(), ['audio/aac', 'video/h264']);
  const decoded = await run('ffmpeg', ['-v', 'error', '-i', stored, '-f', 'null', '-']);
  assert.equal(decoded.stderr, '', 'decodes without an error');
  // Over the API too, as the dashboard's player will fetch it.
  const res = await fetch(`http://127.0.0.1:${sys.httpPort}/api/units/${id}/media/seg-e2e-1`);
  assert.equal(sha256(Buffer.from(await res.arrayBuffer())), await fileSha256(segment));
  // The fleet's media-ack reached the unit: its copy is gone.
  await waitGone(copy as string);
});

async function waitGone(path: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (
      await stat(path).then(
        () => false,
        () => true,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${path} still on the unit`);
}

test('an agent killed with SIGKILL mid-upload resumes without resending what the gateway acknowledged', { timeout: 180_000 }, async (t) => {
  const { sys, dataDir } = await startTestSystem(t, { units: 1 });
  await online(sys);
  const id = sys.units[0]?.id as string;
  const seen = await watchChunks(t, sys);
  const segment = await makeSegment(dataDir, 'big.ts', 20, 3000);
  const size = (await stat(segment)).size;
  await withFiles(sys, dataDir, [{ path: segment, recording: 'seg-e2e-2' }]);
  await untilMedia(sys, id, 'a third uploaded', (m) => (m[0]?.receivedBytes ?? 0) > size / 3, 60_000);
  const unit = sys.units[0];
  assert.ok(unit);
  unit.child.kill('SIGKILL');
  await stopChild(unit.child);
  const lane = BulkStore.open(join(dataDir, 'units', id, 'bulk.db'), { quotaBytes: 1 << 30, now: Date.now });
  const completed: ByteRange[] = lane.get('seg-e2e-2')?.sent ?? [];
  lane.close();
  assert.ok(completed.length > 0, 'some of the file was acknowledged before the kill');
  // What the gateway acknowledged it also forwarded: wait until this watcher has all of it, so any
  // acknowledged range it sees from now on was sent again.
  const covered = () =>
    completed.every((r) => firstGap(r.offset + r.length, r.length, [{ offset: 0, length: r.offset }], seen) === undefined);
  const caughtUp = Date.now() + 10_000;
  while (!covered()) {
    assert.ok(Date.now() < caughtUp, 'the watcher never saw what the gateway acknowledged');
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = seen.length;
  sys.units[0] = await sys.startUnit(0, unit.password);
  await untilMedia(sys, id, 'the segment stored', (m) => m[0]?.state === 'complete', 90_000);
  assert.equal(await fileSha256(join(dataDir, 'fleet', 'media', 'store', id, 'seg-e2e-2')), await fileSha256(segment));
  const after = seen.slice(before);
  const resent = after.filter((c) => completed.some((r) => c.offset >= r.offset && c.offset + c.length <= r.offset + r.length));
  t.diagnostic(`${size} B; ${before} chunks before the kill, ${after.length} after; ${completed.length} acknowledged ranges kept`);
  assert.deepEqual(resent, [], 'nothing the gateway had acknowledged went again');
});

/** Every chunk the gateway forwards, as a second service session sees them. */
async function watchChunks(t: TestContext, sys: RunningSystem): Promise<{ offset: number; length: number }[]> {
  const seen: { offset: number; length: number }[] = [];
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${sys.mqttPort}`, {
    username: 'fleet',
    password: sys.fleetPassword,
    clientId: 'chunk-watcher',
    reconnectPeriod: 0,
  });
  t.after(() => c.end(true));
  c.on('message', (topic, payload) => {
    const m = decodeMessage(topic, payload);
    if (m.ok && m.value.type === 'chunk') seen.push({ offset: m.value.payload.offset, length: m.value.payload.data.length });
  });
  await c.subscribeAsync(filters.allChunks(), { qos: 1 });
  return seen;
}
