/**
 * The live feed's rate on its link (pure, numbers in → step out): it starts low before the link is
 * measured, steps down at once when the link is short, up only after a quiet hold, and holds still
 * in the band between the two shares.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DOWN_SHARE,
  HOLD_UP_MS,
  LIVE_STEPS,
  type LiveLinkReading,
  type LiveRate,
  MAX_BACKLOG_MS,
  nextRate,
  observeSegment,
  SETTLE_MS,
  startRate,
  UP_SHARE,
} from '../src/domain/live-rate.ts';

const LOWEST = LIVE_STEPS.length - 1;
const kbps = (r: LiveRate) => LIVE_STEPS[r.step]?.kbps;
const link = (linkKbps: number | undefined, o: Partial<LiveLinkReading> = {}): LiveLinkReading => ({
  linkKbps,
  backlogMs: 500,
  staleDropped: 0,
  ...o,
});

/** One segment a second for `seconds`, each weighing its step's table figure × `scene` on the wire. */
function run(rate: LiveRate, reading: (now: number) => LiveLinkReading, from: number, seconds: number, scene = 1) {
  const steps: number[] = [];
  let r = rate;
  for (let now = from; now < from + seconds * 1000; now += 1000) {
    r = nextRate(observeSegment(r, (LIVE_STEPS[r.step]?.wireKbps ?? 0) * scene, now), reading(now), now);
    if (steps.at(-1) !== r.step) steps.push(r.step);
  }
  return { rate: r, steps };
}

test('the ladder starts from the video ladder and each step is lighter on the wire than the last', () => {
  assert.deepEqual(
    LIVE_STEPS.map((s) => [s.kbps, s.fps]),
    [
      [512, 10],
      [256, 5],
      [128, 5],
    ],
  );
  for (let i = 1; i < LIVE_STEPS.length; i++) assert.ok((LIVE_STEPS[i]?.wireKbps ?? 0) < (LIVE_STEPS[i - 1]?.wireKbps ?? 0));
  // Video, audio and MPEG-TS: the wire carries more than the video rate.
  for (const s of LIVE_STEPS) assert.ok(s.wireKbps > s.kbps + s.audioKbps, JSON.stringify(s));
});

test('a feed starts at the lowest step before the link is measured, else at the richest that fits UP_SHARE', () => {
  assert.equal(startRate(link(undefined), 0).step, LOWEST);
  assert.match(startRate(link(undefined), 0).why, /not measured/);
  assert.equal(kbps(startRate(link(16_000), 0)), 512, 'LTE at full rate');
  // A thin 4G cell: 512 kbit/s carries the 256 kbit/s step (310 on the wire) within 0.75 of it, not the 512 one (588).
  assert.equal(kbps(startRate(link(512), 0)), 256);
  assert.equal(kbps(startRate(link(300), 0)), 128);
  assert.equal(kbps(startRate(link(100), 0)), 128, 'the lowest step is the floor, fitting or not');
  assert.equal(kbps(startRate(link(16_000), 0, 1)), 256, 'the video plan caps it');
  for (const s of LIVE_STEPS) assert.equal(startRate(link(s.wireKbps / UP_SHARE), 0).step, LIVE_STEPS.indexOf(s), 'exactly at the share');
});

test('the link short steps down one step at once: wire past DOWN_SHARE, segments queueing, a stale drop', () => {
  const top = startRate(link(16_000), 0);
  const settled = SETTLE_MS;
  assert.equal(nextRate(top, link(16_000), settled), top, 'nothing short: the same state');
  // The 512 step measured at 648 kbit/s on a link measured at 600: past 0.9 of it.
  const measured = observeSegment(top, 648, settled);
  const down = nextRate(measured, link(600), settled);
  assert.equal(kbps(down), 256);
  assert.match(down.why, /648 kbit\/s on the wire past 0.9 of 600/);
  assert.equal(nextRate(top, link(16_000, { backlogMs: MAX_BACKLOG_MS }), settled), top, 'two segments at once from a lagging encoder');
  const queued = nextRate(top, link(16_000, { backlogMs: MAX_BACKLOG_MS + 1 }), settled);
  assert.equal(kbps(queued), 256, 'the oldest waiting past MAX_BACKLOG_MS');
  assert.match(queued.why, /segments queue in the lane \(the oldest 2.0 s\)/);
  const stale = nextRate(top, link(16_000, { staleDropped: 1 }), settled);
  assert.equal(kbps(stale), 256, 'a stale drop');
  assert.match(stale.why, /stale/);
  // The lowest step cannot go lower.
  const low = startRate(link(undefined), 0);
  assert.equal(nextRate(low, link(50, { backlogMs: 9000 }), settled).step, LOWEST);
});

test('while the encoder restarts and the old queue drains, nothing steps again; a stale drop then is not counted later', () => {
  const top = startRate(link(16_000), 0);
  const down = nextRate(top, link(16_000, { backlogMs: 3000 }), SETTLE_MS);
  assert.equal(kbps(down), 256);
  const during = nextRate(down, link(16_000, { backlogMs: 4000, staleDropped: 2 }), SETTLE_MS + SETTLE_MS - 1);
  assert.equal(during.step, down.step, 'settling: no second step down');
  assert.equal(during.staleSeen, 2);
  assert.equal(nextRate(during, link(16_000, { staleDropped: 2 }), SETTLE_MS * 3).step, down.step, 'those drops were the old step');
  // The segment the old encoder closed on stopping says nothing of the new step's weight.
  assert.equal(observeSegment(down, 900, SETTLE_MS + 10).wireKbps, undefined);
});

test('a feed started low for want of a measurement goes straight where the first one allows, once settled', () => {
  const low = startRate(link(undefined), 0);
  assert.equal(low.provisional, true);
  assert.equal(nextRate(low, link(16_000), SETTLE_MS - 1).step, LOWEST, 'not while the encoder starts');
  const placed = nextRate(low, link(16_000), SETTLE_MS);
  assert.equal(kbps(placed), 512, 'two steps at once, no hold');
  assert.match(placed.why, /link measured: fits 0.75 of 16000/);
  assert.equal(kbps(nextRate(low, link(512), SETTLE_MS)), 256);
  const stays = nextRate(low, link(250), SETTLE_MS);
  assert.deepEqual([stays.step, stays.provisional], [LOWEST, false], 'placed where it is');
  // Once placed, a step up waits out the hold like any other.
  assert.equal(nextRate(stays, link(16_000), SETTLE_MS + 1000).step, LOWEST);
  assert.equal(nextRate(low, link(16_000, { backlogMs: 3000 }), SETTLE_MS).step, LOWEST, 'not while the link is short');
});

test('up one step only after HOLD_UP_MS without the link short, when the next step fits UP_SHARE', () => {
  // Placed at the lowest step by a thin link's measurement.
  const low = startRate(link(250), 0);
  assert.deepEqual([low.step, low.provisional], [LOWEST, false]);
  const fast = link(16_000);
  assert.equal(HOLD_UP_MS, 15_000);
  assert.equal(nextRate(low, fast, 14_999).step, LOWEST, 'not before the hold');
  assert.equal(nextRate(low, fast, SETTLE_MS).step, LOWEST, 'not once settled either');
  assert.equal(nextRate(low, link(undefined), HOLD_UP_MS).step, LOWEST, 'not without a measurement');
  const up = nextRate(low, fast, HOLD_UP_MS);
  assert.equal(kbps(up), 256);
  assert.match(up.why, /fits 0.75 of 16000/);
  assert.equal(kbps(nextRate(up, fast, HOLD_UP_MS * 2 - 1)), 256, 'the hold counts from the last change');
  assert.equal(kbps(nextRate(up, fast, HOLD_UP_MS * 2)), 512);
  assert.equal(nextRate(up, fast, HOLD_UP_MS * 2, 1).step, 1, 'not past what the plan allows');
  // A short moment restarts the hold.
  const shortAt = HOLD_UP_MS * 2 + SETTLE_MS;
  const shortAtLowest = nextRate(low, link(16_000, { backlogMs: 4000 }), shortAt);
  assert.equal(nextRate(shortAtLowest, fast, shortAt + HOLD_UP_MS - 1).step, LOWEST);
  assert.equal(kbps(nextRate(shortAtLowest, fast, shortAt + HOLD_UP_MS)), 256);
});

test('the next step is estimated from what this one measures on the wire: a richer scene steps up later', () => {
  const low = startRate(link(250), 0);
  // 400 kbit/s: the 256 step's table figure, 310, fits 0.75 × 400 = 300? No: the feed stays.
  assert.equal(nextRate(low, link(400), HOLD_UP_MS).step, LOWEST);
  // 480 kbit/s (0.75 × 480 = 360): from the table, 310 fits.
  assert.equal(kbps(nextRate(low, link(480), HOLD_UP_MS)), 256);
  // The same link with this camera's 128 step measured 60 kbit/s heavier than the table: 370 does not.
  const heavy = observeSegment(low, (LIVE_STEPS[LOWEST]?.wireKbps ?? 0) + 60, SETTLE_MS);
  assert.equal(nextRate(heavy, link(480), HOLD_UP_MS).step, LOWEST);
});

test('between the two shares nothing flaps: a 400 kbit/s link keeps each step where it is for ten minutes', () => {
  // 256 on the wire at 310: 0.78 of 400, under DOWN_SHARE (0.9), over UP_SHARE (0.75).
  assert.ok(310 / 400 < DOWN_SHARE && 310 / 400 > UP_SHARE);
  const at256 = startRate(link(16_000), 0, 1);
  assert.deepEqual(run(at256, () => link(400), 0, 600).steps, [1]);
  assert.deepEqual(run(startRate(link(undefined), 0), () => link(400), 0, 600).steps, [LOWEST]);
});

test('a link that drops from LTE to a thin cell and back: down within seconds, up again after the hold', () => {
  const rates = (now: number) => (now < 60_000 ? 16_000 : now < 180_000 ? 512 : 16_000);
  const { steps } = run(startRate(link(16_000), 0), (now) => link(rates(now)), 0, 300);
  assert.deepEqual(
    steps.map((s) => LIVE_STEPS[s]?.kbps),
    [512, 256, 512],
  );
});
