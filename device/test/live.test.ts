/**
 * A live feed on the unit's clock (node:test mock timers): it ends by itself when the fleet stops
 * renewing it, a renewal extends the same feed, and a plan that no longer allows live ends it; its
 * rate starts from what the lane has measured and steps with what each segment weighs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import type { LiveLinkReading } from '../src/domain/live-rate.ts';
import { videoPlan } from '../src/domain/video-ladder.ts';
import { type LiveFeed, LiveFeeds } from '../src/services/live.ts';

const unmeasured = (): LiveLinkReading => ({ linkKbps: undefined, backlogMs: 0, staleDropped: 0 });

const plan = (link: 'lte' | 'satellite' = 'lte') =>
  videoPlan({ powerState: 'full', link, now: Date.UTC(2026, 11, 1), bytesMonth: 0, planBytes: 2e9 });

test('a feed nobody renews stops by itself; a renewal extends the same feed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 1, 8) });
  const changes: (LiveFeed | undefined)[] = [];
  const live = new LiveFeeds({ clock: systemClock, onChange: (f) => changes.push(f), link: unmeasured, linkClock: systemClock });
  const r = live.start({ forS: 10 }, plan(), undefined);
  assert.equal(r.state, 'live');
  if (r.state !== 'live') return;
  assert.equal(r.bitrateKbps, 128, 'the link not measured yet: the lowest step');
  t.mock.timers.tick(8000);
  const again = live.start({ feed: r.feed, forS: 10 }, plan(), undefined);
  assert.equal(again.state === 'live' && again.feed, r.feed);
  t.mock.timers.tick(8000);
  assert.equal(live.current?.feed, r.feed, 'renewed: still running 16 s after the start');
  t.mock.timers.tick(2001);
  assert.equal(live.current, undefined, 'not renewed: stopped 10 s after the last renewal');
  assert.deepEqual(
    changes.map((c) => c?.feed),
    [r.feed, undefined],
  );
});

test('a plan that stops allowing live (the unit moved to satellite) ends the feed at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 1, 8) });
  const live = new LiveFeeds({ clock: systemClock, onChange: () => undefined, link: unmeasured, linkClock: systemClock });
  live.start({}, plan(), undefined);
  live.replan(plan('satellite'));
  assert.equal(live.current, undefined);
});

test("a feed starts at the rate the lane measured and steps down when its segments outweigh the link's share", (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 1, 8) });
  let reading: LiveLinkReading = { linkKbps: 16_000, backlogMs: 0, staleDropped: 0 };
  const live = new LiveFeeds({ clock: systemClock, onChange: () => undefined, link: () => reading, linkClock: systemClock });
  const r = live.start({ forS: 60 }, plan(), undefined);
  assert.equal(r.state === 'live' && r.bitrateKbps, 512);
  assert.deepEqual([live.current?.kbps, live.current?.fps, live.current?.audioKbps], [512, 10, 32]);
  // The cell thins to 512 kbit/s; each 1 s segment of the 512 step weighs ~77 kB (617 kbit/s).
  reading = { linkKbps: 512, backlogMs: 400, staleDropped: 0 };
  const steps: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    t.mock.timers.tick(1000);
    steps.push(live.segment(live.current?.kbps === 512 ? 77_000 : 40_000));
  }
  assert.deepEqual(steps, [false, false, true, false, false, false], 'one step, once the restart settled');
  assert.deepEqual([live.current?.kbps, live.current?.fps], [256, 5]);
  assert.match(live.rateState?.why ?? '', /616 kbit\/s on the wire past 0.9 of 512/);
  // A renewal keeps the step it is on.
  live.start({ feed: r.state === 'live' ? r.feed : '' }, plan(), undefined);
  assert.equal(live.current?.kbps, 256);
});

test('a data-budget plan caps the feed at 256 kbit/s however fast the link', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 1, 8) });
  const fast = (): LiveLinkReading => ({ linkKbps: 16_000, backlogMs: 0, staleDropped: 0 });
  const live = new LiveFeeds({ clock: systemClock, onChange: () => undefined, link: fast, linkClock: systemClock });
  const low = videoPlan({ powerState: 'full', link: 'lte', now: Date.UTC(2026, 11, 20), bytesMonth: 1.3e9, planBytes: 2e9 });
  assert.equal(low.mode, 'low');
  const r = live.start({}, low, undefined);
  assert.equal(r.state === 'live' && r.bitrateKbps, 256);
});
