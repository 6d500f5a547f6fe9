/**
 * An alarm's clip and its evidence across a restart, on the real ring, bulk lane and outbox with
 * segment files written by hand (the clip joins bytes; ffmpeg's side is in recorder.test.ts and the
 * kill -9 over the whole system in scripts/test/evidence-restart.test.ts).
 *   `unit(dir)` opens the three on `dir` as a start of the agent does; `segment(u, n)` is ffmpeg
 *   finishing segment n into the ring.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Evidence, evidenceHeads } from '@shouwang/protocol';
import { evidenceHead, mediaIdFor, type RaisedAlarm, raiseEntries } from '../src/domain/ring-evidence.ts';
import { Clips } from '../src/services/clips.ts';
import { Ring, segName } from '../src/services/ring.ts';
import { tempDir, unitStores } from './unit-stores.ts';
import { quietLog } from './video.ts';

const UNIT = 'hrb-172';
const ALARM: RaisedAlarm = { id: 'tamper:e2e', ts: 1_790_000_000_000, lat: 45.75, lon: 126.63, values: { soc: 80, tamper: 1 } };
const STILL = { part: 'snapshot', ts: ALARM.ts + 300, recording: 'snap-tamper-e2e', bytes: 14_000, sha256: 'ab'.repeat(32) } as const;
const ROLL = { preRoll: 2, postRoll: 3, segmentMs: 1000 };

const dir = (t: TestContext) => tempDir(t, 'sw-clips-');

function unit(t: TestContext, d: string) {
  const ring = new Ring(join(d, 'video'), 1 << 30);
  ring.open();
  const stores = unitStores(t, d);
  const clips = new Clips({
    ring,
    sink: stores.bulk,
    outbox: stores.outbox,
    unitId: UNIT,
    outDir: join(d, 'video', 'out'),
    log: quietLog(),
  });
  return { ring, clips, ...stores };
}

function segment(u: { ring: Ring }, n: number) {
  writeFileSync(join(u.ring.ringDir, segName(n, 'part')), Buffer.alloc(2000, n));
  return u.ring.complete(n, 1000);
}

/** The chain recomputes to the manifest's head and passes through the head the alarm carried. */
async function assertChain(e: Omit<Evidence, 'seq'>): Promise<void> {
  const heads = await evidenceHeads(UNIT, ALARM.id, e.entries);
  assert.equal(heads.at(-1), e.head);
  assert.ok(heads.includes(evidenceHead(UNIT, ALARM.id, raiseEntries(ALARM))), 'passes through the alarm’s head');
}

test('a still taken before a restart is in the evidence the next start sends; the clip has what the ring held and is marked cut short', async (t) => {
  const d = await dir(t);
  const before = unit(t, d);
  for (const n of [0, 1, 2]) segment(before, n);
  before.clips.start(ALARM, ROLL);
  before.clips.onSegment(segment(before, 3));
  before.clips.add(ALARM.id, STILL);
  // Finished by ffmpeg, its report lost with the kill: in the ring, not yet pinned to the clip.
  segment(before, 4);
  assert.deepEqual(before.evidence(), [], 'nothing sent before the cut');
  before.stop();

  const after = unit(t, d);
  await after.clips.recover();
  const [e, more] = after.evidence();
  assert.ok(e);
  assert.equal(more, undefined);
  assert.deepEqual(
    e.entries.map((x) => x.part),
    ['position', 'readings', 'snapshot', 'clip'],
  );
  assert.deepEqual(e.entries[2], STILL);
  const clip = e.entries[3];
  assert.equal(clip?.cut, 'restart', 'two of three post-roll segments: cut short');
  assert.equal(clip?.recording, mediaIdFor('clip', ALARM.id));
  const item = after.bulk.get(clip?.recording ?? '');
  assert.equal(item?.size, 4 * 2000, 'pre-roll 1–2, post-roll 3 and 4 (the one the ring held unpinned)');
  assert.equal(item?.meta.durationMs, 4000);
  await assertChain(e);
});

test('a clip whose post-roll the ring holds whole after a restart is complete, not marked', async (t) => {
  const d = await dir(t);
  const before = unit(t, d);
  segment(before, 0);
  before.clips.start(ALARM, { ...ROLL, postRoll: 2 });
  before.clips.onSegment(segment(before, 1));
  segment(before, 2);
  before.stop();
  const after = unit(t, d);
  await after.clips.recover();
  const clip = after.evidence()[0]?.entries.at(-1);
  assert.equal(clip?.part, 'clip');
  assert.equal(clip?.cut, undefined);
  assert.equal(after.bulk.get(clip?.recording ?? '')?.size, 3 * 2000);
});

test('a clip that held nothing when the agent stopped (the camera was asleep) is in the evidence as cut short, with no file', async (t) => {
  const d = await dir(t);
  const before = unit(t, d);
  before.clips.start(ALARM, { ...ROLL, preRoll: 0 });
  before.clips.add(ALARM.id, STILL);
  before.stop();
  const after = unit(t, d);
  await after.clips.recover();
  const [e] = after.evidence();
  assert.ok(e);
  assert.deepEqual(e.entries.at(-2), STILL);
  assert.deepEqual(e.entries.at(-1), { part: 'clip', ts: ALARM.ts, cut: 'restart' });
  assert.deepEqual(after.ring.clipIds(), [], 'its pins are gone');
  await assertChain(e);
});

test('a still ready after its clip closed sends the evidence again, with it', async (t) => {
  const d = await dir(t);
  const u = unit(t, d);
  segment(u, 0);
  u.clips.start(ALARM, { ...ROLL, postRoll: 1 });
  u.clips.onSegment(segment(u, 1));
  const deadline = Date.now() + 5000;
  while (u.evidence().length === 0) {
    assert.ok(Date.now() < deadline, 'the clip closed');
    await new Promise((r) => setTimeout(r, 10));
  }
  u.clips.add(ALARM.id, STILL);
  const [first, second] = u.evidence();
  assert.deepEqual(
    first?.entries.map((x) => x.part),
    ['position', 'readings', 'clip'],
  );
  assert.ok(second);
  assert.deepEqual(second.entries, [...(first?.entries ?? []), STILL]);
  assert.equal(second.entries.at(-2)?.cut, undefined, 'a clip closed in its run is not marked');
  await assertChain(second);
});

test('a still ready while its clip is being joined is in the one evidence message the clip sends', async (t) => {
  const d = await dir(t);
  const u = unit(t, d);
  segment(u, 0);
  u.clips.start(ALARM, { ...ROLL, postRoll: 1 });
  u.clips.onSegment(segment(u, 1));
  // The clip's post-roll is in: it is being joined and handed to the lane when the still comes.
  u.clips.add(ALARM.id, STILL);
  const deadline = Date.now() + 5000;
  while (u.evidence().length === 0) {
    assert.ok(Date.now() < deadline, 'the clip closed');
    await new Promise((r) => setTimeout(r, 10));
  }
  const [only, more] = u.evidence();
  assert.deepEqual(
    only?.entries.map((x) => x.part),
    ['position', 'readings', 'snapshot', 'clip'],
  );
  assert.equal(more, undefined);
  if (only) await assertChain(only);
});
