/** The bulk lane's pure decisions: window and chunk sizes from the link's rate, the rate meter, eviction order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeChunk, MEDIA_CHUNK_MAX_BYTES, topics } from '@shouwang/protocol';
import {
  CHUNK_HEADROOM,
  laneSizing,
  MAX_WINDOW_BYTES,
  MIN_CHUNK_BYTES,
  NOMINAL_RATE,
  RateMeter,
  toEvict,
} from '../src/domain/bulk-lane.ts';
import { publishPacketBytes } from '../src/domain/upload-policy.ts';

test('the window is what the link carries in alarmWaitMs, in two chunks, within the chunk and window bounds', () => {
  assert.deepEqual(laneSizing(64_000, 1000), { chunkBytes: 32_000 - CHUNK_HEADROOM, windowBytes: 64_000 });
  assert.deepEqual(laneSizing(64_000, 500), { chunkBytes: 16_000 - CHUNK_HEADROOM, windowBytes: 32_000 });
  // Satellite: one smallest chunk, whatever the wait.
  assert.deepEqual(laneSizing(NOMINAL_RATE.satellite, 1000), { chunkBytes: MIN_CHUNK_BYTES, windowBytes: MIN_CHUNK_BYTES });
  // A fast link: the largest chunks, and never more than four of them in flight.
  assert.deepEqual(laneSizing(10_000_000, 1000), { chunkBytes: MEDIA_CHUNK_MAX_BYTES, windowBytes: MAX_WINDOW_BYTES });
  assert.equal(MAX_WINDOW_BYTES, 4 * MEDIA_CHUNK_MAX_BYTES);
});

test('two chunks fit the window on the wire: a first chunk with every meta field stays within CHUNK_HEADROOM of its data', () => {
  const { chunkBytes, windowBytes } = laneSizing(64_000, 1000);
  const hash = new Uint8Array(32).fill(7);
  const payload = encodeChunk({
    recording: `live-${'x'.repeat(56)}-4294967295`,
    kind: 'live',
    offset: 0,
    hash,
    data: new Uint8Array(chunkBytes),
    size: 2 ** 40,
    sha256: hash,
    type: 'video/mp2t',
    startTs: Date.UTC(2099, 11, 31),
    durationMs: 2 ** 31,
    alarm: `alarm-${'y'.repeat(58)}`,
  });
  const wire = publishPacketBytes(topics.chunk(`unit-${'z'.repeat(27)}`), payload.length, 1);
  assert.ok(wire - chunkBytes < CHUNK_HEADROOM, `${wire - chunkBytes} B besides the data`);
  assert.ok(2 * wire <= windowBytes);
});

test('the rate meter starts at the nominal rate, follows measurements smoothly, and forgets on reset', () => {
  const m = new RateMeter(0.5);
  assert.equal(m.rate(64_000), 64_000);
  m.observe(32_000, 500);
  assert.equal(m.rate(64_000), 64_000);
  m.observe(32_000, 1000);
  assert.equal(m.rate(64_000), 48_000, 'halfway to the new measurement');
  m.observe(0, 100);
  m.observe(100, 0);
  assert.equal(m.rate(64_000), 48_000, 'empty or instant observations are ignored');
  m.reset();
  assert.equal(m.rate(300), 300);
  assert.equal(m.measured, undefined);
});

test('the measured rate counts from the third sample, the first ones averaged evenly', () => {
  const m = new RateMeter(0.3);
  m.observe(90_000, 1000);
  m.observe(30_000, 1000);
  assert.equal(m.measured, undefined, 'two samples: not yet');
  assert.equal(m.rate(0), 60_000, 'the second weighs as much as the first');
  m.observe(60_000, 1000);
  assert.equal(m.measured, 60_000);
  m.observe(160_000, 1000);
  assert.equal(m.measured, 90_000, 'then the moving average (0.3)');
});

test('eviction: unpinned only, lowest class first, then oldest; fits says whether room was found', () => {
  const held = [
    { id: 1, bytes: 400, pinned: true, priority: 2, created: 1 },
    { id: 2, bytes: 200, pinned: false, priority: 1, created: 2 },
    { id: 3, bytes: 200, pinned: false, priority: 3, created: 5 },
    { id: 4, bytes: 200, pinned: false, priority: 3, created: 3 },
  ];
  assert.deepEqual(toEvict(held, 1000, 0), { evict: [], fits: true });
  assert.deepEqual(toEvict(held, 1000, 150), { evict: [4], fits: true });
  assert.deepEqual(toEvict(held, 1000, 500), { evict: [4, 3, 2], fits: true });
  assert.deepEqual(toEvict(held, 1000, 700), { evict: [4, 3, 2], fits: false });
});
