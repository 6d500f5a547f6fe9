import type { LinkType, MediaReason, PowerState } from '@shouwang/protocol';

/**
 * A viewer's keep-alive and what it is answered (`POST /api/units/:id/live`): the unit's feed, or
 * its refusal with the reason and its latest still. A feed runs `FEED_FOR_S` from each start or
 * renewal, so one whose viewers all vanished ends on the unit by itself.
 */
export type WatchAnswer =
  | { state: 'live'; feed: string; until: number; segmentMs: number; bitrateKbps: number }
  | { state: 'refused'; reason: MediaReason; detail: string; snapshot?: string };

export const KEEPALIVE_S = 10;
/** Each start or renewal asks for this long: two keep-alives may be lost before the feed ends. */
export const FEED_FOR_S = 30;

/**
 * The HLS media playlist of one live feed (RFC 8216 §4.3.3): a sliding window over the newest
 * segments the fleet holds, complete and verified. A unit names each live segment
 * `<feed>-<n>` with `n` its ring's segment number, so `n` is the media sequence number
 * (§4.3.3.2); a segment the unit's lane dropped as too old leaves a gap, and the window holds
 * only the run after the newest gap, since sequence numbers in a playlist must be consecutive.
 */
export interface LiveSegment {
  recording: string;
  durationMs: number;
  /** When the unit started capturing it (the unit's clock), ms. */
  startTs: number | null;
}

/**
 * Rungs on which the unit's camera is off and its modem wakes for alarms only: a request would
 * wait for the next alarm window, so the fleet does not send one.
 */
const CAMERA_OFF: ReadonlySet<PowerState> = new Set(['satellite-digest', 'deep-sleep']);

/**
 * Why the fleet refuses a feed before asking the unit, from what the unit last reported: a
 * satellite link carries no video (and a request would spend the link's few messages), and a unit
 * on its last power rungs has its camera off. Otherwise the unit decides (its ladder also weighs
 * the month's data).
 */
export function liveRefusal(u: { link: { type: LinkType } | null; power: { state: PowerState } | null } | undefined) {
  if (u?.link?.type === 'satellite') return { reason: 'satellite', detail: 'satellite link: no video' } as const;
  if (u?.power && CAMERA_OFF.has(u.power.state))
    return { reason: 'critical-power', detail: `power rung ${u.power.state}: camera off` } as const;
  return undefined;
}

/**
 * Why the fleet refuses a talk-down before asking: a recorded message cannot cross a satellite
 * link (a stock one is a few bytes and may), and a unit on its last rungs has its amplifier off.
 */
export function talkDownRefusal(
  u: { link: { type: LinkType } | null; power: { state: PowerState } | null } | undefined,
  recorded: boolean,
) {
  if (recorded && u?.link?.type === 'satellite')
    return { reason: 'satellite', detail: 'satellite link: recorded audio cannot be carried; pick a stock message' } as const;
  if (u?.power && CAMERA_OFF.has(u.power.state))
    return { reason: 'critical-power', detail: `power rung ${u.power.state}: speaker off` } as const;
  return undefined;
}

/** Segments in the window: enough for hls.js to hold its distance from the live edge. */
export const LIVE_WINDOW = 6;

export function segmentNumber(feed: string, recording: string): number | undefined {
  if (!recording.startsWith(`${feed}-`)) return undefined;
  const n = Number(recording.slice(feed.length + 1));
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The playlist, or undefined while no segment of the feed has arrived. */
export function livePlaylist(feed: string, segments: readonly LiveSegment[], url: (recording: string) => string): string | undefined {
  const numbered = segments
    .flatMap((s) => {
      const n = segmentNumber(feed, s.recording);
      return n === undefined ? [] : [{ ...s, n }];
    })
    .sort((a, b) => a.n - b.n);
  const run: typeof numbered = [];
  for (const s of numbered) {
    const last = run.at(-1);
    if (last && s.n === last.n) continue;
    if (last && s.n !== last.n + 1) run.length = 0;
    run.push(s);
  }
  const window = run.slice(-LIVE_WINDOW);
  const first = window[0];
  if (!first) return undefined;
  const target = Math.max(1, ...window.map((s) => Math.ceil(s.durationMs / 1000)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first.n}`];
  for (const s of window) {
    // The capture time lets a player (and the latency bench) tell how far behind the unit it plays.
    if (s.startTs !== null) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.startTs).toISOString()}`);
    lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, url(s.recording));
  }
  return `${lines.join('\n')}\n`;
}
