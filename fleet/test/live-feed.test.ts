/**
 * Live feeds in the fleet without a unit: the HLS playlist a feed's stored segments make, and the
 * viewers' keep-alives against a recording stand-in for the command client (it answers what a unit
 * would and keeps every request, so a test can say what reached the unit).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CommandArgs, CommandName, CommandResponse } from '@shouwang/protocol';
import { pino } from 'pino';
import { FEED_FOR_S, KEEPALIVE_S, LIVE_WINDOW, livePlaylist } from '../src/domain/live-feed.ts';
import type { UnitState } from '../src/domain/unit-state.ts';
import { LiveViewing } from '../src/media/live.ts';

const seg = (n: number, startTs: number | null = 1_700_000_000_000 + n * 1000) => ({
  recording: `live-abc-${n}`,
  durationMs: 1000,
  startTs,
});
const url = (r: string) => `/api/units/u1/media/${r}`;

test('the playlist slides over the newest segments, numbered by the unit, with their capture times', () => {
  const p =
    livePlaylist(
      'live-abc',
      [3, 1, 2, 4, 5, 6, 7, 8, 9].map((n) => seg(n)),
      url,
    ) ?? '';
  const uris = p.split('\n').filter((l) => l.startsWith('/'));
  assert.equal(uris.length, LIVE_WINDOW);
  assert.deepEqual(
    uris,
    [4, 5, 6, 7, 8, 9].map((n) => url(`live-abc-${n}`)),
  );
  assert.match(p, /^#EXTM3U\n/);
  assert.match(p, /#EXT-X-TARGETDURATION:1\n/);
  assert.match(p, /#EXT-X-MEDIA-SEQUENCE:4\n/);
  assert.match(p, /#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z\n#EXTINF:1.000,\n\/api\/units\/u1\/media\/live-abc-4\n/);
  assert.doesNotMatch(p, /#EXT-X-ENDLIST/, 'a live playlist has no end');
});

test('a gap starts the window again after it; other feeds and duplicates are left out; nothing yet is no playlist', () => {
  const p = livePlaylist('live-abc', [seg(1), seg(2), seg(4), seg(5), seg(5), { ...seg(6), recording: 'live-abcd-6' }], url) ?? '';
  assert.match(p, /#EXT-X-MEDIA-SEQUENCE:4\n/);
  assert.deepEqual(
    p.split('\n').filter((l) => l.startsWith('/')),
    [url('live-abc-4'), url('live-abc-5')],
  );
  assert.equal(livePlaylist('live-abc', [], url), undefined);
  assert.equal(livePlaylist('live-abc', [{ ...seg(1), recording: 'live-abc-x' }], url), undefined);
});

interface Sent {
  command: CommandName;
  args: unknown;
}

/** Answers `live-start` as a unit on 4G does (a new feed, or the one named renewed) and `live-stop`. */
function unitOn4g() {
  const sent: Sent[] = [];
  let feeds = 0;
  const commands = {
    async send<C extends CommandName>(_unit: string, command: C, args: CommandArgs<C>): Promise<CommandResponse<C>> {
      sent.push({ command, args });
      const a = args as { feed?: string };
      const data =
        command === 'live-start'
          ? { state: 'live', feed: a.feed ?? `feed-${++feeds}`, segmentMs: 1000, bitrateKbps: 512, until: 0 }
          : { state: 'stopped' };
      return { id: 'x', status: 'ok', data } as unknown as CommandResponse<C>;
    },
  };
  return { sent, commands };
}

function viewing(unit: Partial<UnitState> = {}) {
  let now = 1_000_000;
  const u = unitOn4g();
  const live = new LiveViewing({
    commands: u.commands,
    unit: () => ({
      id: 'u1',
      online: true,
      lastSeen: now,
      presence: null,
      power: null,
      location: null,
      link: null,
      running: null,
      ...unit,
    }),
    latestSnapshot: async () => 'still-9',
    now: () => now,
    log: pino({ level: 'silent' }),
  });
  return { live, sent: u.sent, advance: (s: number) => (now += s * 1000) };
}

test('viewers share one feed, renewed by their keep-alives before it runs out; the last to leave stops it', async () => {
  const { live, sent, advance } = viewing();
  const [a, b] = await Promise.all([live.watch('u1', 'viewer-aaaa'), live.watch('u1', 'viewer-bbbb')]);
  assert.deepEqual(a, b);
  assert.equal(sent.length, 1, 'two viewers arriving together: one request');
  assert.deepEqual(sent[0]?.args, { forS: FEED_FOR_S });
  advance(1);
  await live.watch('u1', 'viewer-aaaa');
  assert.equal(sent.length, 1, 'a fresh feed is not renewed');
  advance(KEEPALIVE_S);
  await live.watch('u1', 'viewer-bbbb');
  assert.deepEqual(sent.at(-1), { command: 'live-start', args: { forS: FEED_FOR_S, feed: 'feed-1' } }, 'renewed by name');
  await live.leave('u1', 'viewer-aaaa');
  assert.equal(sent.at(-1)?.command, 'live-start', 'one viewer left, the other still watches');
  await live.leave('u1', 'viewer-bbbb');
  assert.deepEqual(sent.at(-1), { command: 'live-stop', args: { feed: 'feed-1' } });
});

test('a feed left to run out is not renewed by name: the next viewer starts a new one', async () => {
  const { live, sent, advance } = viewing();
  await live.watch('u1', 'viewer-aaaa');
  advance(FEED_FOR_S + 1);
  await live.watch('u1', 'viewer-aaaa');
  assert.deepEqual(sent.at(-1)?.args, { forS: FEED_FOR_S });
});

test('on satellite or on the last power rungs the fleet refuses with the latest still and asks the unit nothing', async () => {
  const sat = viewing({ link: { seq: 1, ts: 0, type: 'satellite' } as UnitState['link'] });
  assert.deepEqual(await sat.live.watch('u1', 'viewer-aaaa'), {
    state: 'refused',
    reason: 'satellite',
    detail: 'satellite link: no video',
    snapshot: 'still-9',
  });
  assert.equal(sat.sent.length, 0);
  const dark = viewing({ power: { state: 'deep-sleep' } as UnitState['power'] });
  assert.equal(((await dark.live.watch('u1', 'viewer-aaaa')) as { reason: string }).reason, 'critical-power');
  assert.equal(dark.sent.length, 0);
});
