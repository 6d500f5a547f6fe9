/**
 * The ring's quota: the oldest unpinned segments go first; a segment a clip pins is never removed
 * before the clip is released (uploaded); when pinned clips alone fill the quota the ring says it
 * is full instead of eating into them. Segment files here are plain bytes: the ring never reads them.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { planEviction } from '../src/domain/ring-eviction.ts';
import { Ring, segName } from '../src/services/ring.ts';

const KB = 1000;

async function ringIn(t: { after: (fn: () => Promise<void>) => void }, quota: number): Promise<Ring> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-ring-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ring = new Ring(dir, quota);
  ring.open();
  return ring;
}

/** What ffmpeg does: writes seg-<n>.part; then the recorder completes it. */
function record(ring: Ring, bytes = 100 * KB) {
  const n = ring.nextNumber();
  writeFileSync(join(ring.ringDir, segName(n, 'part')), Buffer.alloc(bytes, n));
  return ring.complete(n);
}

test('over quota the oldest unpinned segments go; a pinned clip stays until released', async (t) => {
  const ring = await ringIn(t, 1000 * KB);
  for (let i = 0; i < 5; i++) record(ring);
  ring.pin('tamper_1', ring.latest(3)); // segments 2, 3, 4
  for (let i = 0; i < 20; i++) record(ring);
  assert.ok(ring.heldBytes() <= 1000 * KB, `held ${ring.heldBytes()}`);
  for (const s of ring.clipSegments('tamper_1')) assert.ok(existsSync(s.path), `${s.path} pinned and gone`);
  assert.deepEqual(
    ring.clipSegments('tamper_1').map((s) => s.n),
    [2, 3, 4],
  );
  // The ring keeps the pinned three and as many recent ones as the quota leaves beside them.
  assert.deepEqual(
    ring.segments().map((s) => s.n),
    [2, 3, 4, 18, 19, 20, 21, 22, 23, 24],
  );
  assert.equal(ring.isFull, false);

  ring.release('tamper_1');
  assert.deepEqual(ring.clipIds(), []);
  record(ring);
  assert.deepEqual(
    ring.segments().map((s) => s.n),
    [3, 4, 18, 19, 20, 21, 22, 23, 24, 25],
    'the released clip’s segments are ordinary ones, the oldest to go',
  );
});

test('pinned clips filling the quota: the ring reports full and removes none of them', async (t) => {
  const ring = await ringIn(t, 500 * KB);
  for (let i = 0; i < 3; i++) record(ring);
  ring.pin('a', ring.latest(3));
  for (let i = 0; i < 3; i++) record(ring);
  ring.pin('b', ring.latest(2));
  assert.equal(ring.isFull, false);
  record(ring);
  assert.equal(ring.isFull, true);
  for (const id of ['a', 'b']) for (const s of ring.clipSegments(id)) assert.ok(existsSync(s.path));
  ring.release('a');
  assert.equal(ring.isFull, false);
});

test('the index is rebuilt from the directory: clips and their pins survive a restart', async (t) => {
  const ring = await ringIn(t, 400 * KB);
  for (let i = 0; i < 4; i++) record(ring);
  ring.pin('motion_9', ring.latest(2));
  const again = new Ring(join(ring.ringDir, '..'), 400 * KB);
  again.open();
  assert.deepEqual(again.clipIds(), ['motion_9']);
  for (let i = 0; i < 10; i++) record(again);
  assert.deepEqual(
    again.clipSegments('motion_9').map((s) => s.n),
    [2, 3],
  );
  for (const s of again.clipSegments('motion_9')) assert.ok(existsSync(s.path));
});

test('planEviction keeps the newest segment and never picks a pinned one', () => {
  const segs = [
    { n: 1, bytes: 10, pinned: true },
    { n: 2, bytes: 10, pinned: false },
    { n: 3, bytes: 10, pinned: false },
  ];
  assert.deepEqual(planEviction(segs, 0, 5), { evict: [2], heldBytes: 20, full: true });
  assert.deepEqual(planEviction(segs, 0, 30), { evict: [], heldBytes: 30, full: false });
});
