import type { LinkType, MediaReason, PowerState, VideoMode } from '@shouwang/protocol';
import { RUNG_LIMITS } from './power.ts';

/**
 * What the camera may do, from two things the unit knows: its power rung (the camera duty of
 * `RUNG_LIMITS`) and where this month's data use is heading against the SIM plan. The protocol's
 * modes, richest first; the data forecast picks the first whose projected month-end use fits the
 * plan, so a month never ends over it, and the rung caps it:
 *   full / reduced / low   ring recording at 1000 / 512 / 256 kbit/s; alarm clips, stills on a schedule
 *   snapshots              no video: stills on the schedule and on alarm
 *   events                 the camera wakes for alarms only: a clip (post-roll, 256 kbit/s) and a still
 *   off                    nothing (critical power, or no mode fits the month)
 * A still every 15 min costs less a month than an alarm clip a day at 256 kbit/s, so the data
 * forecast steps from `snapshots` straight to `off`; `events` is the power rungs' mode.
 * A rung with the camera `on-alarm` caps the mode at `events`, `off` at `off` (recording stops in
 * critical power). Satellite never carries video: `snapshots` at most, as thumbnails small enough for
 * its daily budget.
 */
export interface VideoPlan {
  mode: VideoMode;
  /** Why the mode is below `full`. */
  reason?: MediaReason;
  /** Ring recording: always, only while an alarm's clip records, or not at all. */
  recording: 'continuous' | 'on-alarm' | 'off';
  kbps: number;
  fps: number;
  /** Alarm clips are made (and go up when the link carries video). */
  clips: boolean;
  scheduledSnapshots: boolean;
  alarmSnapshots: boolean;
  snapshot: SnapshotSize;
  /** Whether a live feed may start, or why not (the refusal command sees). */
  live: { allowed: true } | { allowed: false; reason: MediaReason; detail: string };
  /** The rung, the link and the forecast, in words (logged on each change). */
  detail: string;
}

export interface SnapshotSize {
  width: number;
  height: number;
  /** ffmpeg's MJPEG -q:v, 2 (best) … 31 (smallest). */
  quality: number;
}

/** How much media a day brings, to price each step. Defaults: the data-use table's assumptions (device/bench/bytes.ts). */
export interface VideoUsage {
  alarmsPerDay: number;
  /** Pre-roll + post-roll of one clip, s. */
  clipS: number;
  snapshotsPerDay: number;
  snapshotBytes: number;
  liveMinPerDay: number;
  /** Everything that is not media (status, telemetry, keep-alive), bytes/day. */
  baseBytesPerDay: number;
  /** Audio track and container overhead on top of the video bitrate, kbit/s. */
  overheadKbps: number;
}

export const DEFAULT_VIDEO_USAGE: VideoUsage = {
  alarmsPerDay: 2,
  clipS: 30,
  snapshotsPerDay: 96,
  // Measured (`npm run bench -- device/bench/bytes`): a 640×360 still 14.3 KB; recording at 1000 /
  // 512 / 256 kbit/s comes to 1131 / 646 / 344 kbit/s with the 32 kbit/s AAC track and MPEG-TS.
  snapshotBytes: 15_000,
  liveMinPerDay: 10,
  // 2.47 MB/month of status and telemetry on the full rung with a 300 s keep-alive (device bench).
  baseBytesPerDay: 82_000,
  overheadKbps: 130,
};

export interface LadderInputs {
  powerState: PowerState;
  link: LinkType;
  now: number;
  /** Bytes this calendar month (UTC), as the uplink meters them. */
  bytesMonth: number;
  planBytes: number;
  usage?: VideoUsage;
}

interface Step {
  mode: VideoMode;
  kbps: number;
  fps: number;
  clips: boolean;
  scheduled: boolean;
}
const STEPS: readonly Step[] = [
  { mode: 'full', kbps: 1000, fps: 15, clips: true, scheduled: true },
  { mode: 'reduced', kbps: 512, fps: 10, clips: true, scheduled: true },
  { mode: 'low', kbps: 256, fps: 5, clips: true, scheduled: true },
  { mode: 'snapshots', kbps: 0, fps: 0, clips: false, scheduled: true },
  { mode: 'events', kbps: 256, fps: 5, clips: true, scheduled: false },
  { mode: 'off', kbps: 0, fps: 0, clips: false, scheduled: false },
];
const OFF = STEPS[STEPS.length - 1] as Step;
const rank = (m: VideoMode) => STEPS.findIndex((s) => s.mode === m);
const step = (m: VideoMode) => STEPS.find((s) => s.mode === m) ?? OFF;
/** A recording mode's encoder rate (the live feed's steps start from these). */
export function modeRate(m: VideoMode): { kbps: number; fps: number } {
  const s = step(m);
  return { kbps: s.kbps, fps: s.fps };
}
/** The richest mode each camera duty allows. */
const DUTY_CAP = { continuous: 'full', 'on-alarm': 'events', off: 'off' } as const satisfies Record<string, VideoMode>;

/** Keep this share of the plan unspent: the forecast is linear, a month is not. */
const PLAN_MARGIN = 0.95;

export const FULL_SNAPSHOT: SnapshotSize = { width: 640, height: 360, quality: 6 };
/** ~1.5–2.5 KB: a handful of 340-byte SBD messages, inside a day's satellite budget with the alarms. */
export const SATELLITE_SNAPSHOT: SnapshotSize = { width: 160, height: 90, quality: 24 };

/** Media bytes a day in a mode (live feeds priced at the mode's bitrate, 512 kbit/s at most). */
export function modeBytesPerDay(mode: VideoMode, u: VideoUsage = DEFAULT_VIDEO_USAGE): number {
  const s = step(mode);
  const byteRate = (kbps: number) => ((kbps + u.overheadKbps) * 1000) / 8;
  const clips = s.clips ? u.alarmsPerDay * u.clipS * byteRate(s.kbps) : 0;
  const stills = mode === 'off' ? 0 : ((s.scheduled ? u.snapshotsPerDay : 0) + u.alarmsPerDay) * u.snapshotBytes;
  const live = s.clips && s.scheduled ? u.liveMinPerDay * 60 * byteRate(Math.min(512, s.kbps)) : 0;
  return Math.round(clips + stills + live);
}

/** Month-end bytes if the rest of the month runs in `mode`. */
export function projectedMonthBytes(i: LadderInputs, mode: VideoMode): number {
  const u = i.usage ?? DEFAULT_VIDEO_USAGE;
  const t = new Date(i.now);
  const end = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
  const daysLeft = (end - i.now) / 86_400_000;
  return Math.round(i.bytesMonth + daysLeft * (u.baseBytesPerDay + modeBytesPerDay(mode, u)));
}

export function videoPlan(i: LadderInputs): VideoPlan {
  const duty = RUNG_LIMITS[i.powerState].camera;
  const cap = i.planBytes * PLAN_MARGIN;
  const data = STEPS.find((s) => s.mode === 'off' || projectedMonthBytes(i, s.mode) <= cap) ?? OFF;
  const satellite = i.link === 'satellite';
  const limits: { mode: VideoMode; reason: MediaReason }[] = [
    { mode: data.mode, reason: 'data-budget' },
    { mode: DUTY_CAP[duty], reason: duty === 'off' ? 'critical-power' : 'power' },
    { mode: satellite ? 'snapshots' : 'full', reason: 'satellite' },
  ];
  const tightest = limits.reduce((a, b) => (rank(b.mode) > rank(a.mode) ? b : a));
  const s = step(tightest.mode);
  const forecast = `month-end forecast ${mb(projectedMonthBytes(i, data.mode))} of ${mb(i.planBytes)} plan`;
  const detail = `${i.powerState}, ${i.link}: ${s.mode} (${forecast})`;
  const live: VideoPlan['live'] = satellite
    ? { allowed: false, reason: 'satellite', detail: 'satellite link: no video' }
    : duty === 'off'
      ? { allowed: false, reason: 'critical-power', detail: `power rung ${i.powerState}: camera off` }
      : rank(data.mode) > rank('low')
        ? { allowed: false, reason: 'data-budget', detail: `data plan: ${forecast}` }
        : { allowed: true };
  return {
    mode: s.mode,
    ...(s.mode === 'full' ? {} : { reason: tightest.reason }),
    recording: s.kbps === 0 ? 'off' : s.scheduled ? 'continuous' : 'on-alarm',
    kbps: s.kbps,
    fps: s.fps,
    clips: s.clips,
    scheduledSnapshots: s.scheduled,
    alarmSnapshots: s.mode !== 'off',
    snapshot: satellite ? SATELLITE_SNAPSHOT : FULL_SNAPSHOT,
    live,
    detail,
  };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
