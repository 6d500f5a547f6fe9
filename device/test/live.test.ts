/**
 * A live feed on the unit's clock (node:test mock timers): it ends by itself when the fleet stops
 * renewing it, a renewal extends the same feed, and a plan that no longer allows live ends it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import { videoPlan } from '../src/domain/video-ladder.ts';
import { type LiveFeed, LiveFeeds } from '../src/services/live.ts';

const plan = (link: 'lte' | 'satellite' = 'lte') =>
  videoPlan({ powerState: 'full', link, now: Date.UTC(2026, 11, 1), bytesMonth: 0, planBytes: 2e9 });

test('a feed nobody renews stops by itself; a renewal extends the same feed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 1, 8) });
  const changes: (LiveFeed | undefined)[] = [];
  const live = new LiveFeeds({ clock: systemClock, onChange: (f) => changes.push(f) });
  const r = live.start({ forS: 10 }, plan(), undefined);
  assert.equal(r.state, 'live');
  if (r.state !== 'live') return;
  assert.equal(r.bitrateKbps, 512, 'live is capped at what a 4G cell edge carries');
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
  const live = new LiveFeeds({ clock: systemClock, onChange: () => undefined });
  live.start({}, plan(), undefined);
  live.replan(plan('satellite'));
  assert.equal(live.current, undefined);
});
