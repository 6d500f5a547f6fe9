import type { LinkType, PowerState } from '@shouwang/protocol';
import { RUNG_LIMITS } from './power.ts';

/**
 * What the camera may do, from two things the unit knows: its power rung (the camera duty of
 * `RUNG_LIMITS`) and where this month's data use is heading against the SIM plan. The data steps,
 * richest first; the ladder takes the first whose projected month-end use fits the plan, so a
 * month never ends over it:
 *   video-1000 / -512 / -256   ring recording at that bitrate, alarm clips and snapshots uploaded
 *   snapshots-only             clips stay pinned on the unit (they go next month), snapshots go
 *   event-clips-only           nothing on a schedule: an alarm's clip (at 256 kbit/s) and its still
 *   hold                       nothing uploaded until the month turns; evidence stays on the unit
 * Satellite never carries video: stills only, as thumbnails small enough for its daily budget.
 */
export type VideoStep = 'video-1000' | 'video-512' | 'video-256' | 'snapshots-only' | 'event-clips-only' | 'hold';

export interface VideoPlan {
  step: VideoStep;
  /** Ring recording: always, only after an alarm (post-roll, the camera woken for it), or not at all. */
  recording: 'continuous' | 'on-alarm' | 'off';
  kbps: number;
  fps: number;
  uploadClips: boolean;
  scheduledSnapshots: boolean;
  alarmSnapshots: boolean;
  snapshot: SnapshotSize;
  /** Whether a live feed may start, or why not (shown to command as the refusal). */
  live: { allowed: true } | { allowed: false; reason: string };
  /** Why the plan is what it is: the rung, the link, the forecast. */
  reason: string;
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
  snapshotBytes: 30_000,
  liveMinPerDay: 10,
  // 2.47 MB/month of status and telemetry on the full rung with a 300 s keep-alive (device bench).
  baseBytesPerDay: 82_000,
  // 32 kbit/s AAC and ~5 % MPEG-TS framing over 1 Mbit/s.
  overheadKbps: 48,
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

const STEPS: readonly { step: VideoStep; kbps: number; fps: number; clips: boolean; scheduled: boolean }[] = [
  { step: 'video-1000', kbps: 1000, fps: 15, clips: true, scheduled: true },
  { step: 'video-512', kbps: 512, fps: 10, clips: true, scheduled: true },
  { step: 'video-256', kbps: 256, fps: 5, clips: true, scheduled: true },
  { step: 'snapshots-only', kbps: 256, fps: 5, clips: false, scheduled: true },
  { step: 'event-clips-only', kbps: 256, fps: 5, clips: true, scheduled: false },
  { step: 'hold', kbps: 256, fps: 5, clips: false, scheduled: false },
];

/** Keep this share of the plan unspent: the forecast is linear, a month is not. */
const PLAN_MARGIN = 0.95;

export const FULL_SNAPSHOT: SnapshotSize = { width: 640, height: 360, quality: 6 };
/** ~1.5–2.5 KB: a handful of 340-byte SBD messages, inside a day's satellite budget with the alarms. */
export const SATELLITE_SNAPSHOT: SnapshotSize = { width: 160, height: 90, quality: 24 };

/** Media bytes a day at a step (live feeds are priced at the step's bitrate, 512 kbit/s at most). */
export function stepBytesPerDay(step: VideoStep, u: VideoUsage = DEFAULT_VIDEO_USAGE): number {
  const s = STEPS.find((x) => x.step === step) ?? (STEPS[STEPS.length - 1] as (typeof STEPS)[number]);
  const byteRate = (kbps: number) => ((kbps + u.overheadKbps) * 1000) / 8;
  const clips = s.clips ? u.alarmsPerDay * u.clipS * byteRate(s.kbps) : 0;
  const stills = (s.scheduled ? u.snapshotsPerDay : 0) * u.snapshotBytes + (step === 'hold' ? 0 : u.alarmsPerDay * u.snapshotBytes);
  const live = s.scheduled ? u.liveMinPerDay * 60 * byteRate(Math.min(512, s.kbps)) : 0;
  return Math.round(clips + stills + live);
}

/** Month-end bytes if the rest of the month runs at `step`. */
export function projectedMonthBytes(i: LadderInputs, step: VideoStep): number {
  const u = i.usage ?? DEFAULT_VIDEO_USAGE;
  const t = new Date(i.now);
  const end = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1);
  const daysLeft = (end - i.now) / 86_400_000;
  return Math.round(i.bytesMonth + daysLeft * (u.baseBytesPerDay + stepBytesPerDay(step, u)));
}

export function videoPlan(i: LadderInputs): VideoPlan {
  const duty = RUNG_LIMITS[i.powerState].camera;
  const cap = i.planBytes * PLAN_MARGIN;
  const chosen = STEPS.find((s) => projectedMonthBytes(i, s.step) <= cap) ?? (STEPS[STEPS.length - 1] as (typeof STEPS)[number]);
  const forecast = `month-end forecast ${mb(projectedMonthBytes(i, chosen.step))} of ${mb(i.planBytes)} plan`;
  const satellite = i.link === 'satellite';

  if (duty === 'off') {
    const reason = `power rung ${i.powerState}: camera off`;
    return {
      step: chosen.step,
      recording: 'off',
      kbps: 0,
      fps: 0,
      uploadClips: false,
      scheduledSnapshots: false,
      alarmSnapshots: false,
      snapshot: SATELLITE_SNAPSHOT,
      live: { allowed: false, reason: `${reason} (critical power)` },
      reason,
    };
  }
  const live: VideoPlan['live'] = satellite
    ? { allowed: false, reason: 'satellite link: no video' }
    : chosen.step === 'hold'
      ? { allowed: false, reason: `data plan: ${forecast}` }
      : { allowed: true };
  return {
    step: chosen.step,
    recording: duty === 'continuous' ? 'continuous' : 'on-alarm',
    kbps: chosen.kbps,
    fps: chosen.fps,
    uploadClips: chosen.clips && !satellite,
    // Scheduled stills only on the rung with a continuous camera; lower rungs wake it for alarms.
    scheduledSnapshots: chosen.scheduled && duty === 'continuous',
    alarmSnapshots: chosen.step !== 'hold' || satellite,
    snapshot: satellite ? SATELLITE_SNAPSHOT : FULL_SNAPSHOT,
    live,
    reason: `${i.powerState}, ${i.link}: ${chosen.step} (${forecast})`,
  };
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
