import type { Clock } from '@shouwang/hardware';
import type { CommandArgs, CommandData } from '@shouwang/protocol';
import { LIVE_STEPS, type LiveLinkReading, type LiveRate, nextRate, observeSegment, startRate, stepOf } from '../domain/live-rate.ts';
import { modeRate, type VideoPlan } from '../domain/video-ladder.ts';

/**
 * Live feeds on the unit. `live-start` starts one (or renews the one named) for `forS`; a feed the
 * fleet does not renew ends by itself when its time is up, so nobody watching means no video on
 * the link. Refused, with the ladder's reason and the latest still to show instead, on satellite,
 * in critical power, or when the month's data plan has no room for video.
 *
 * Its rate follows the link (domain/live-rate.ts): each segment it sends, with what the lane says
 * of the link, may move it a step on the live ladder; the caller restarts the encoder then. Those
 * decisions run on `linkClock`, real time, as the encoder and the radio do, even when the unit's
 * clock runs simulated time faster.
 */
export interface LiveFeed {
  feed: string;
  until: number;
  segmentMs: number;
  kbps: number;
  fps: number;
  audioKbps: number;
}

const DEFAULT_FOR_S = 30;
const DEFAULT_SEGMENT_MS = 1000;

export class LiveFeeds {
  private readonly clock: Clock;
  private readonly onChange: (feed: LiveFeed | undefined) => void;
  private feed: LiveFeed | undefined;
  private timer: unknown;
  private started = 0;
  private readonly link: () => LiveLinkReading;
  private readonly linkClock: Clock;
  private rate: LiveRate | undefined;
  /** The richest step the video plan allows (an index of LIVE_STEPS). */
  private top = 0;

  constructor(o: {
    clock: Clock;
    onChange: (feed: LiveFeed | undefined) => void;
    /** What the bulk lane says of the link now. */
    link: () => LiveLinkReading;
    linkClock: Clock;
  }) {
    this.clock = o.clock;
    this.onChange = o.onChange;
    this.link = o.link;
    this.linkClock = o.linkClock;
  }

  get current(): LiveFeed | undefined {
    return this.feed;
  }

  /** The feed's place on the live ladder and why it is there. */
  get rateState(): LiveRate | undefined {
    return this.rate;
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
    this.top = topStep(plan);
    if (!renew) this.rate = startRate(this.link(), this.linkClock.now(), this.top);
    const next: LiveFeed = renew
      ? { ...(this.feed as LiveFeed), until }
      : {
          feed: args.feed ?? `live-${now.toString(36)}-${(this.started++).toString(36)}`,
          until,
          segmentMs: args.segmentMs ?? DEFAULT_SEGMENT_MS,
          ...encoder(this.rate?.step ?? LIVE_STEPS.length - 1),
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

  /** The ladder changed: a feed it no longer allows stops now; one it allows less steps down at its next segment. */
  replan(plan: VideoPlan): void {
    this.top = topStep(plan);
    if (this.feed && !plan.live.allowed) this.end();
  }

  /**
   * A segment of the feed, `bytes` long and `durationMs` (the feed's segment length unless cut
   * short) went to the lane: says whether the feed moved on the ladder (the encoder restarts with
   * `current`'s settings then).
   */
  segment(bytes: number, durationMs?: number): boolean {
    const feed = this.feed;
    if (!feed || !this.rate) return false;
    const now = this.linkClock.now();
    const observed = observeSegment(this.rate, (bytes * 8) / Math.max(1, durationMs ?? feed.segmentMs), now);
    this.rate = nextRate(observed, this.link(), now, this.top);
    if (this.rate.step === observed.step) return false;
    this.feed = { ...feed, ...encoder(this.rate.step) };
    return true;
  }

  close(): void {
    this.clock.clearTimeout(this.timer);
    this.feed = undefined;
    this.rate = undefined;
  }

  private end(): void {
    this.clock.clearTimeout(this.timer);
    if (!this.feed) return;
    this.feed = undefined;
    this.rate = undefined;
    this.onChange(undefined);
  }
}

/** The richest live step the plan's rate allows (a data-budget `low` plan keeps the feed at 256 kbit/s). */
function topStep(plan: VideoPlan): number {
  const cap = Math.max(plan.kbps, modeRate('low').kbps);
  const i = LIVE_STEPS.findIndex((s) => s.kbps <= cap);
  return i < 0 ? LIVE_STEPS.length - 1 : i;
}

function encoder(step: number): Pick<LiveFeed, 'kbps' | 'fps' | 'audioKbps'> {
  const s = stepOf(step);
  return { kbps: s.kbps, fps: s.fps, audioKbps: s.audioKbps };
}
