/**
 * The live feed on a thin link, through the whole agent (startUnit: the simulator's camera and
 * ffmpeg, the real uplink and bulk lane, the simulated link at 512 kbit/s, a real Aedes): the feed
 * settles on a step whose segments the link carries, so none queues until the lane drops it as
 * stale and every segment captured reaches the broker, in sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, type MediaChunk } from '@shouwang/protocol';
import { DOWN_SHARE } from '../src/domain/live-rate.ts';
import { startUnit } from './unit.ts';

const LINK_KBPS = 512;
/** Enough for a fixed 512 kbit/s feed (~620 kbit/s on the wire) to queue past the lane's 5 s: it would drop from ~25 s on. */
const SEGMENTS = 45;

test('on a 512 kbit/s link the live feed steps to a rate the link carries: no segment goes stale, all arrive in sequence', {
  timeout: 180_000,
}, async (t) => {
  const u = await startUnit(t, {
    timeScale: 1,
    config: { sim: { lat: 45.7578, lon: 126.6425, timeScale: 1, linkKbps: LINK_KBPS }, video: { enabled: true, segmentS: 1 } },
  });
  const video = u.device.video;
  assert.ok(video);
  const r = video.liveStart({ forS: 120 });
  assert.ok(r.state === 'live', JSON.stringify(r));

  // Live segments whole at the broker, by sequence number (the ring's segment number).
  const whole = new Map<number, number>();
  const got = new Map<string, { size: number; bytes: number }>();
  let seen = 0;
  const deadline = Date.now() + 150_000;
  while (whole.size < SEGMENTS) {
    assert.ok(Date.now() < deadline, `${whole.size} of ${SEGMENTS} live segments whole at the broker within 150 s`);
    assert.equal(u.device.bulk.dropped.get('stale-live'), 0, `the lane dropped a stale segment after ${whole.size} arrived`);
    for (; seen < u.broker.received.length; seen++) {
      const m = decodeMessage(u.broker.received[seen]?.topic ?? '', u.broker.received[seen]?.payload ?? Buffer.alloc(0));
      if (!m.ok || m.value.type !== 'chunk' || m.value.payload.kind !== 'live') continue;
      const c: MediaChunk = m.value.payload;
      const g = got.get(c.recording) ?? { size: c.size ?? Number.POSITIVE_INFINITY, bytes: 0 };
      g.bytes += c.data.length;
      got.set(c.recording, g);
      if (g.bytes >= g.size) whole.set(Number(c.recording.slice(r.feed.length + 1)), g.size);
    }
    await new Promise((res) => setTimeout(res, 250));
  }

  t.diagnostic(`on ${video.live.current?.kbps} kbit/s: ${video.live.rateState?.why}`);
  const ns = [...whole.keys()].sort((a, b) => a - b);
  const first = ns[0] ?? 0;
  assert.deepEqual(
    ns.slice(0, SEGMENTS),
    ns.slice(0, SEGMENTS).map((_, i) => first + i),
    'every segment captured arrived, none skipped',
  );
  // What the feed settled on weighs on the wire less than the share of the link it may take.
  const last = ns.slice(-10).map((n) => ((whole.get(n) ?? 0) * 8) / 1000);
  const kbps = last.reduce((a, b) => a + b, 0) / last.length;
  assert.ok(kbps <= DOWN_SHARE * LINK_KBPS, `the last ten segments weigh ${kbps.toFixed(0)} kbit/s on a ${LINK_KBPS} kbit/s link`);
});
