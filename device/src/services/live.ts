import type { Clock } from '@shouwang/hardware';
import type { CommandArgs, CommandData } from '@shouwang/protocol';
import type { VideoPlan } from '../domain/video-ladder.ts';

/**
 * Live feeds on the unit. `live-start` starts one (or renews the one named) for `forS`; a feed the
 * fleet does not renew ends by itself when its time is up, so nobody watching means no video on
 * the link. Refused, with the ladder's reason and the latest still to show instead, on satellite,
 * in critical power, or when the month's data plan has no room for video.
 */
export interface LiveFeed {
  feed: string;
  until: number;
  segmentMs: number;
  kbps: number;
  fps: number;
}

const DEFAULT_FOR_S = 30;
const DEFAULT_SEGMENT_MS = 1000;
/** Live segments at most this rate: the simulated 4G link of the target carries 512 kbit/s. */
const LIVE_MAX_KBPS = 512;

export class LiveFeeds {
  private readonly clock: Clock;
  private readonly onChange: (feed: LiveFeed | undefined) => void;
  private feed: LiveFeed | undefined;
  private timer: unknown;
  private started = 0;

  constructor(o: { clock: Clock; onChange: (feed: LiveFeed | undefined) => void }) {
    this.clock = o.clock;
    this.onChange = o.onChange;
  }

  get current(): LiveFeed | undefined {
    return this.feed;
  }

  start(args: CommandArgs<'live-start'>, plan: VideoPlan, latestSnapshot: string | undefined): CommandData<'live-start'> {
    if (!plan.live.allowed) {
      return {
        state: 'refused',
        reason: plan.live.reason,
        detail: plan.live.detail,
        ...(latestSnapshot ? { snapshot: latestSnapshot } : {}),
      };
    }
    const now = this.clock.now();
    const until = now + (args.forS ?? DEFAULT_FOR_S) * 1000;
    const renew = this.feed && (args.feed === undefined || args.feed === this.feed.feed);
    const fps = Math.max(plan.fps, 5);
    const next: LiveFeed = renew
      ? { ...(this.feed as LiveFeed), until }
      : {
          feed: args.feed ?? `live-${now.toString(36)}-${(this.started++).toString(36)}`,
          until,
          segmentMs: args.segmentMs ?? DEFAULT_SEGMENT_MS,
          kbps: Math.min(Math.max(plan.kbps, 256), LIVE_MAX_KBPS),
          fps,
        };
    this.feed = next;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.end(), until - now);
    if (!renew) this.onChange(next);
    return { state: 'live', feed: next.feed, segmentMs: next.segmentMs, bitrateKbps: next.kbps, until };
  }

  stop(feed: string): CommandData<'live-stop'> {
    if (this.feed?.feed !== feed) return { state: 'unknown' };
    this.end();
    return { state: 'stopped' };
  }

  /** The ladder changed: a feed it no longer allows stops now. */
  replan(plan: VideoPlan): void {
    if (this.feed && !plan.live.allowed) this.end();
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.feed = undefined;
  }

  private end(): void {
    this.clock.clearTimeout(this.timer);
    if (!this.feed) return;
    this.feed = undefined;
    this.onChange(undefined);
  }
}
