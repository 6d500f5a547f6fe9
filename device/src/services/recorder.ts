import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { CameraSource, H264Encoder } from '@shouwang/hardware';
import type { Logger } from 'pino';
import { type Ring, type Segment, segName } from './ring.ts';

/**
 * The ring recorder: one ffmpeg child process encoding the camera (and microphone) into short
 * MPEG-TS segments in the ring. MPEG-TS because a segment cut off at any byte still plays up to
 * the cut, and each segment starts on a keyframe (GOP = segment length) so each plays alone.
 *
 * ffmpeg reports each finished segment on its stdout (the segment muxer's CSV list written to a
 * pipe, not to the card); the recorder then renames it into the ring. ffmpeg runs under the
 * kernel's parent-death signal: if the agent dies (kill -9, a crash), ffmpeg dies with it — ffmpeg
 * ignores SIGPIPE and would otherwise record on, unreported, into `.part` files — leaving the one
 * `.part` it was writing, which the next start discards.
 */
export type VideoSource = { kind: 'camera'; camera: CameraSource } | { kind: 'rtsp'; url: string; encoder: H264Encoder };

export interface RecordingProfile {
  kbps: number;
  fps: number;
  /** Segment length, s: ~2 for the ring, 1 for a live feed. */
  segmentS: number;
  /** The AAC track's rate; 32 kbit/s unless a thin link's live step lowers it. */
  audioKbps?: number;
  /**
   * Runs of the same timeline (one live feed, through its rate changes) carry on its timestamps:
   * a player that keeps the feed sees time go on across the encoder's restart, not jump back to 0.
   */
  timeline?: string;
  /**
   * Segments go up as they close (a live feed): the encoder's rate buffer holds one second, not
   * two, and starts a quarter full, so no segment (the first of a run included, which otherwise
   * carries up to twice the rate) outweighs what the link was sized for.
   */
  paced?: boolean;
}

export function sameProfile(a: RecordingProfile | undefined, b: RecordingProfile | undefined): boolean {
  return (
    a?.kbps === b?.kbps &&
    a?.fps === b?.fps &&
    a?.segmentS === b?.segmentS &&
    a?.audioKbps === b?.audioKbps &&
    a?.timeline === b?.timeline &&
    a?.paced === b?.paced
  );
}

/** ffmpeg's arguments for a profile. Exported for the bench, which runs the same command. */
export function recorderArgs(source: VideoSource, p: RecordingProfile, ringDir: string, startNumber: number, tsOffsetS = 0): string[] {
  const input =
    source.kind === 'rtsp'
      ? { args: ['-rtsp_transport', 'tcp', '-i', source.url], audio: ['-map', '0:a:0?'] }
      : source.camera.audioInput
        ? { args: [...source.camera.ffmpegInput, ...source.camera.audioInput], audio: ['-map', '1:a:0'] }
        : { args: [...source.camera.ffmpegInput], audio: [] };
  const encoder = source.kind === 'rtsp' ? source.encoder : source.camera.encoder;
  const gop = Math.max(1, Math.round(p.fps * p.segmentS));
  // libx264 only: the VideoCore encoder takes bitrate and GOP, not x264's presets.
  const x264 = encoder === 'libx264' ? ['-preset', 'veryfast', '-tune', 'zerolatency', '-sc_threshold', '0'] : [];
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    ...input.args,
    '-map',
    '0:v:0',
    ...input.audio,
    '-vf',
    `fps=${p.fps}`,
    '-c:v',
    encoder,
    ...x264,
    '-b:v',
    `${p.kbps}k`,
    '-maxrate',
    `${p.kbps}k`,
    '-bufsize',
    `${p.paced ? p.kbps : p.kbps * 2}k`,
    // In bits (kbit/s × 1000 / 4): a quarter of the one-second buffer.
    ...(p.paced ? ['-rc_init_occupancy', String(p.kbps * 250)] : []),
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    `${p.audioKbps ?? 32}k`,
    '-ac',
    '1',
    '-ar',
    '16000',
    // The timeline's start: the time since its first run began (MPEG-TS timestamps, ISO/IEC 13818-1 PTS).
    ...(tsOffsetS > 0 ? ['-output_ts_offset', tsOffsetS.toFixed(3)] : []),
    '-f',
    'segment',
    '-segment_time',
    String(p.segmentS),
    '-segment_format',
    'mpegts',
    // Written as encoded, not held in ffmpeg until the segment closes: the page cache has it (and a
    // kill leaves the part written so far, which the next start discards as the partial segment).
    '-segment_format_options',
    'flush_packets=1',
    '-segment_start_number',
    String(startNumber),
    '-segment_list',
    'pipe:1',
    '-segment_list_type',
    'csv',
    join(ringDir, 'seg-%010d.part'),
  ];
}

export interface RecorderEvents {
  segment: [Segment];
  /** ffmpeg ended on its own (not by stop()); it is started again after a backoff. */
  failed: [Error];
}

/** The segment muxer's CSV list line: file, start and end time on the output timeline, s. */
const PART = /^seg-(\d{10})\.part,([\d.]+),([\d.]+)/;
const BACKOFF_CAP_MS = 60_000;

export class Recorder extends EventEmitter<RecorderEvents> {
  private readonly source: VideoSource;
  private readonly ring: Ring;
  private readonly log: Logger;
  private child: ChildProcess | undefined;
  private profile: RecordingProfile | undefined;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** The timeline being recorded and when (performance.now(), the encoder's real time) its first run began. */
  private timeline: { key: string; origin: number } | undefined;
  /** Where the segment ffmpeg writes now starts on the output timeline, s (the previous one's end). */
  private segmentStartS = 0;

  constructor(o: { source: VideoSource; ring: Ring; log: Logger }) {
    super();
    this.source = o.source;
    this.ring = o.ring;
    this.log = o.log;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get current(): RecordingProfile | undefined {
    return this.profile;
  }

  /** The ffmpeg process's id, while one runs (for the bench's CPU and memory figures). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Records with `profile` (undefined: stops). A different profile restarts ffmpeg; the same one is
   * a no-op. Calls take effect one after another (two overlapping switches must not start two ffmpegs).
   */
  set(profile: RecordingProfile | undefined): Promise<void> {
    const next = this.queue.then(() => this.switchTo(profile));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async switchTo(profile: RecordingProfile | undefined): Promise<void> {
    if (sameProfile(profile, this.profile) && (this.child || this.retry || !profile)) return;
    this.profile = profile;
    await this.halt();
    if (profile) this.spawn();
  }

  stop(): Promise<void> {
    return this.set(undefined);
  }

  private spawn(): void {
    const profile = this.profile;
    if (!profile) return;
    this.ring.open();
    if (this.ring.isFull) {
      this.log.warn({ heldBytes: this.ring.heldBytes() }, 'recording paused: pinned clips fill the quota');
      return;
    }
    const now = performance.now();
    if (profile.timeline === undefined) this.timeline = undefined;
    else if (this.timeline?.key !== profile.timeline) this.timeline = { key: profile.timeline, origin: now };
    const offsetS = this.timeline ? (now - this.timeline.origin) / 1000 : 0;
    this.segmentStartS = offsetS;
    const args = recorderArgs(this.source, profile, this.ring.ringDir, this.ring.nextNumber(), offsetS);
    // setpriv (util-linux, on every Debian) has the kernel kill ffmpeg when the agent dies, however it dies.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'ffmpeg', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.onLine(line));
    child.once('error', (err) => this.log.error({ err }, 'ffmpeg could not be started'));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping || child.killed) return;
      const err = new Error(`ffmpeg exited (${signal ?? code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      this.failures++;
      const delay = Math.min(2 ** (this.failures - 1) * 1000, BACKOFF_CAP_MS);
      this.log.warn({ err, retryInMs: delay }, 'recorder stopped; restarting');
      this.emit('failed', err);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.spawn();
      }, delay);
    });
    this.log.info({ ...profile, encoder: args[args.indexOf('-c:v') + 1], first: segName(this.ring.nextNumber()) }, 'recording');
  }

  private onLine(line: string): void {
    const m = PART.exec(line);
    if (!m) return;
    // Each segment's length from the list's end times, not `segmentS`: the one ffmpeg was writing
    // when it was stopped (a rate change) is shorter. Not the list's start time: the first segment
    // of a run with a timestamp offset is listed from 0, not from the offset (ffmpeg 5.1).
    const endS = Number(m[3]);
    const durationMs = Math.max(0, Math.round((endS - this.segmentStartS) * 1000));
    this.segmentStartS = endS;
    let seg: Segment;
    try {
      seg = this.ring.complete(Number(m[1]), durationMs);
    } catch (err) {
      this.log.warn({ err, line }, 'segment reported but not found');
      return;
    }
    this.failures = 0;
    this.emit('segment', seg);
    if (this.ring.isFull && this.child) {
      this.log.warn({ heldBytes: this.ring.heldBytes() }, 'recording paused: pinned clips fill the quota');
      void this.halt();
    }
  }

  /** Ends ffmpeg: `q`-less, by SIGINT, so it closes the segment it is writing and reports it; SIGKILL after 5 s. */
  private halt(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    const child = this.child;
    if (!child) return this.stopping ?? Promise.resolve();
    this.stopping = new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('close', () => {
        clearTimeout(kill);
        if (this.child === child) this.child = undefined;
        this.stopping = undefined;
        resolve();
      });
      child.kill('SIGINT');
    });
    return this.stopping;
  }
}
