import { modeRate } from './video-ladder.ts';

/**
 * The live feed's rate on the link it has: a ladder of encoder settings (the video ladder's
 * `reduced` and `low` rates, and one below for a thin cell), each with what its segments weigh on
 * the wire — video, the AAC track and MPEG-TS — so that a feed fits a share of the rate the bulk
 * lane measures, the rest left for alarms and the lane's own pacing.
 *
 * Down one step at once when the link is short (the feed's measured wire rate past DOWN_SHARE of
 * the link, segments queueing in the lane, or the lane dropping one as stale); up one step only
 * after HOLD_UP_MS without any of that and when the next step's estimate fits UP_SHARE. The gap
 * between the two shares is the hysteresis: a step up that lands at UP_SHARE has room before it
 * steps down again. After each change SETTLE_MS passes before the next: the encoder restarts and
 * the lane drains what the old step queued. Before the link is measured the feed starts at the
 * lowest step, provisionally: once measured (and settled) it goes straight to the step the
 * measurement allows, as if it had started there; the hold is for a link that was short.
 */
export interface LiveStep {
  kbps: number;
  fps: number;
  audioKbps: number;
  /**
   * A segment's weight on the wire, kbit/s, of 1 s segments from the simulated camera (640×360 test
   * pattern and tone), as `npm run bench -- device/bench/live-steps` prints it. A feed measures its
   * own as it runs; these place a step it has not run at yet.
   */
  wireKbps: number;
}

export const LIVE_STEPS: readonly LiveStep[] = [
  { ...modeRate('reduced'), audioKbps: 32, wireKbps: 588 },
  { ...modeRate('low'), audioKbps: 32, wireKbps: 310 },
  // Half the ladder's lowest rate, and half its audio: a 512 kbit/s cell with other traffic still carries it.
  { kbps: 128, fps: 5, audioKbps: 16, wireKbps: 169 },
];

/** A step up must fit this share of the measured link with its estimated wire rate. */
export const UP_SHARE = 0.75;
/** Past this share of the measured link the feed's measured wire rate steps it down. */
export const DOWN_SHARE = 0.9;
/**
 * The oldest live segment still waiting in the lane older than this: they queue, the feed is too
 * rich. An age, not a count: an encoder that lags under load hands over two segments at once,
 * which a link that carries the feed clears within a second. Well short of the lane's stale limit
 * (`bulk.liveMaxAgeMs`, 5 s), so the feed steps down before it loses a segment.
 */
export const MAX_BACKLOG_MS = 2_000;
export const SETTLE_MS = 3_000;
export const HOLD_UP_MS = 15_000;

/** What the lane and the encoder say now. */
export interface LiveLinkReading {
  /** The lane's measured link rate, kbit/s; undefined before anything has been measured on this connection. */
  linkKbps: number | undefined;
  /** How long the oldest live segment closed and not yet all acknowledged has waited, ms (0: none). */
  backlogMs: number;
  /** Live segments the lane has dropped as stale, since the unit started (a counter). */
  staleDropped: number;
}

export interface LiveRate {
  step: number;
  /** The current step's segments on the wire, kbit/s (moving average); undefined until one was sent at it. */
  wireKbps: number | undefined;
  changedAt: number;
  /** The last time the link was short (or the step changed). */
  shortAt: number;
  staleSeen: number;
  /** Why the last change was made, for the log. */
  why: string;
  /** Started low without a measurement: the first one places it. */
  provisional: boolean;
}

/** The highest step whose estimate fits UP_SHARE of the measured link, at most `top`; the lowest before any measurement. */
export function startRate(r: LiveLinkReading, now: number, top = 0): LiveRate {
  const lowest = LIVE_STEPS.length - 1;
  const fits = LIVE_STEPS.findIndex((s, i) => i >= top && r.linkKbps !== undefined && s.wireKbps <= UP_SHARE * r.linkKbps);
  const step = fits < 0 ? lowest : fits;
  const why = r.linkKbps === undefined ? 'link not measured yet: lowest step' : `fits ${UP_SHARE} of ${Math.round(r.linkKbps)} kbit/s`;
  return { step, wireKbps: undefined, changedAt: now, shortAt: now, staleSeen: r.staleDropped, why, provisional: r.linkKbps === undefined };
}

/** One segment of `wireKbps` went to the lane. */
export function observeSegment(rate: LiveRate, wireKbps: number, now: number): LiveRate {
  // The first segment after a change may be the old encoder's last (cut short when it stopped).
  if (now - rate.changedAt < SETTLE_MS) return rate;
  return { ...rate, wireKbps: rate.wireKbps === undefined ? wireKbps : rate.wireKbps + 0.3 * (wireKbps - rate.wireKbps) };
}

/** The step for what the lane says now; the same object when nothing changes. `top` is the richest step the video plan allows. */
export function nextRate(rate: LiveRate, r: LiveLinkReading, now: number, top = 0): LiveRate {
  const lowest = LIVE_STEPS.length - 1;
  const stale = r.staleDropped > rate.staleSeen;
  const current = rate.wireKbps ?? stepOf(rate.step).wireKbps;
  const short = stale
    ? 'the lane dropped a stale segment'
    : r.backlogMs > MAX_BACKLOG_MS
      ? `segments queue in the lane (the oldest ${(r.backlogMs / 1000).toFixed(1)} s)`
      : r.linkKbps !== undefined && current > DOWN_SHARE * r.linkKbps
        ? `${Math.round(current)} kbit/s on the wire past ${DOWN_SHARE} of ${Math.round(r.linkKbps)} kbit/s`
        : undefined;
  const settled = now - rate.changedAt >= SETTLE_MS;
  if (rate.step < top) return changed(rate, top, now, r, 'the video plan allows no more');
  if (rate.provisional && !short && settled && r.linkKbps !== undefined) {
    const placed = startRate(r, now, top);
    return placed.step === rate.step ? { ...rate, provisional: false } : { ...placed, why: `link measured: ${placed.why}` };
  }
  if (short) {
    // While settling, the old step's queue is still draining: it says nothing about the new one.
    if (!settled) return stale ? { ...rate, staleSeen: r.staleDropped } : rate;
    if (rate.step === lowest) return { ...rate, shortAt: now, staleSeen: r.staleDropped };
    return changed(rate, rate.step + 1, now, r, short);
  }
  if (rate.step <= top || r.linkKbps === undefined || now - Math.max(rate.changedAt, rate.shortAt) < HOLD_UP_MS) return rate;
  // The next step's estimate: what this one measures on the wire, plus the difference the table says.
  const up = stepOf(rate.step - 1);
  const estimate = current + up.wireKbps - stepOf(rate.step).wireKbps;
  if (estimate > UP_SHARE * r.linkKbps) return rate;
  return changed(rate, rate.step - 1, now, r, `~${Math.round(estimate)} kbit/s fits ${UP_SHARE} of ${Math.round(r.linkKbps)} kbit/s`);
}

export function stepOf(i: number): LiveStep {
  return LIVE_STEPS[Math.min(Math.max(i, 0), LIVE_STEPS.length - 1)] as LiveStep;
}

function changed(rate: LiveRate, step: number, now: number, r: LiveLinkReading, why: string): LiveRate {
  if (step === rate.step) return rate;
  return { step, wireKbps: undefined, changedAt: now, shortAt: now, staleSeen: r.staleDropped, why, provisional: false };
}
