import { linkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Speaker } from '@shouwang/hardware';
import type { CommandArgs, CommandData, LinkType, PowerState, UplinkPayload } from '@shouwang/protocol';
import type { Logger } from 'pino';
import type { LiveLinkReading } from '../domain/live-rate.ts';
import { evidenceHead, type RaisedAlarm, raiseEntries } from '../domain/ring-evidence.ts';
import type { VideoPlan } from '../domain/video-ladder.ts';
import { Clips, type MediaSink } from './clips.ts';
import { type LiveFeed, LiveFeeds } from './live.ts';
import type { Outbox } from './outbox.ts';
import { Recorder, type RecordingProfile, type VideoSource } from './recorder.ts';
import { Ring, type Segment } from './ring.ts';
import { Snapshots, type Still, stillEntry } from './snapshots.ts';
import { TalkDown } from './speaker.ts';

/**
 * Video on the unit, put together: the ladder's plan drives the recorder (continuous ring, only
 * while an alarm's clip records, or nothing), a live feed overrides it with short segments; alarms
 * get a clip and a still; finished files go to the bulk lane (`MediaSink`). `apply()` is called
 * whenever the plan may have changed (each sample, a rung change, a feed starting or ending).
 */
export interface VideoControlOptions {
  unitId: string;
  /** `<dataDir>/video`: ring/, clips/, out/, stills/, live/, talk/. */
  dir: string;
  source: VideoSource;
  speaker: Speaker | undefined;
  sink: MediaSink;
  outbox: Pick<Outbox, 'enqueue'>;
  clock: Clock;
  log: Logger;
  ringQuotaBytes: number;
  segmentS: number;
  preRollS: number;
  postRollS: number;
  stockDir: string;
  plan: () => VideoPlan;
  /** What the upload lane holds: media bytes still to send, pinned recordings not yet with the fleet. */
  backlog?: () => { bytes: number; pinned: number };
  situation: () => { powerState: PowerState; link: LinkType };
  /** What the bulk lane says of the link (its measured rate, live segments waiting, stale ones dropped): the live feed's rate follows it. */
  liveLink: () => LiveLinkReading;
  /** Real time, for the live feed's rate steps: the encoder and the radio run in it whatever the unit's clock does. */
  linkClock: Clock;
}

type Status = Omit<UplinkPayload<'video'>, 'seq'>;

export class VideoControl {
  readonly ring: Ring;
  readonly recorder: Recorder;
  readonly clips: Clips;
  readonly snapshots: Snapshots;
  readonly live: LiveFeeds;
  readonly talkDown: TalkDown;
  private readonly o: VideoControlOptions;
  private lastStatus = '';
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(o: VideoControlOptions) {
    this.o = o;
    this.ring = new Ring(o.dir, o.ringQuotaBytes);
    this.recorder = new Recorder({ source: o.source, ring: this.ring, log: o.log.child({ part: 'recorder' }) });
    this.clips = new Clips({ ring: this.ring, sink: o.sink, outbox: o.outbox, unitId: o.unitId, outDir: join(o.dir, 'out'), log: o.log });
    this.snapshots = new Snapshots({
      dir: join(o.dir, 'stills'),
      input: o.source.kind === 'camera' ? o.source.camera.ffmpegInput : ['-rtsp_transport', 'tcp', '-i', o.source.url],
      sink: o.sink,
      log: o.log.child({ part: 'stills' }),
      deliver: (s) => this.deliverStill(s),
      latestSegment: () => (this.recorder.running ? this.ring.latest(1)[0]?.path : undefined),
    });
    this.live = new LiveFeeds({ clock: o.clock, onChange: (feed) => this.onLive(feed), link: o.liveLink, linkClock: o.linkClock });
    this.talkDown = new TalkDown({
      speaker: o.speaker,
      dir: join(o.dir, 'talk'),
      stockDir: o.stockDir,
      log: o.log.child({ part: 'speaker' }),
    });
    this.recorder.on('segment', (s) => this.onSegment(s));
  }

  async start(): Promise<void> {
    const r = this.ring.open();
    if (r.discarded.length > 0 || r.recovered.length > 0) this.o.log.warn(r, 'ring settled after an interrupted run');
    // Stills first: one taken for an alarm whose clip the restart interrupted joins that clip's manifest.
    await this.snapshots.recover();
    await this.clips.recover();
    await this.apply();
  }

  /** Brings the recorder and the live feed in line with the plan; reports the camera's state when it changed. */
  async apply(): Promise<void> {
    if (this.closed) return;
    const plan = this.o.plan();
    this.live.replan(plan);
    await this.recorder.set(this.profile(plan));
    this.report(plan);
  }

  /** An alarm was raised: the head it carries now; its still and clip follow. */
  alarm(a: RaisedAlarm): string {
    const plan = this.o.plan();
    if (plan.clips) {
      const seg = this.profile(plan)?.segmentS ?? this.o.segmentS;
      const continuous = this.recorder.running && plan.recording === 'continuous';
      this.clips.start(a, {
        preRoll: continuous ? Math.ceil(this.o.preRollS / seg) : 0,
        postRoll: Math.ceil(this.o.postRollS / seg),
        segmentMs: seg * 1000,
      });
      // The camera wakes for the clip on a rung that keeps it asleep.
      this.track(this.apply());
    }
    // No clip coming: the still completes the evidence of what was known at the raise.
    if (plan.alarmSnapshots)
      this.track(this.snapshots.take(a.ts, plan.snapshot, plan.clips ? { alarm: a.id } : { alarm: a.id, raise: raiseEntries(a) }));
    return this.clips.head(a);
  }

  /** A still for the schedule, if the plan has them; says whether one is being taken. */
  scheduledSnapshot(at: number): boolean {
    const plan = this.o.plan();
    if (plan.scheduledSnapshots) this.track(this.snapshots.take(at, plan.snapshot));
    return plan.scheduledSnapshots;
  }

  liveStart(args: CommandArgs<'live-start'>): CommandData<'live-start'> {
    return this.live.start(args, this.o.plan(), this.snapshots.latest);
  }

  liveStop(args: CommandArgs<'live-stop'>): CommandData<'live-stop'> {
    return this.live.stop(args.feed);
  }

  playTalkDown(args: CommandArgs<'talk-down'>): CommandData<'talk-down'> {
    return this.talkDown.request(args, this.o.situation());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live.close();
    await this.recorder.stop();
    await Promise.allSettled([...this.pending]);
    await this.talkDown.idle();
  }

  private profile(plan: VideoPlan): RecordingProfile | undefined {
    const feed = this.live.current;
    if (feed)
      return {
        kbps: feed.kbps,
        fps: feed.fps,
        audioKbps: feed.audioKbps,
        segmentS: feed.segmentMs / 1000,
        timeline: feed.feed,
        paced: true,
      };
    if (plan.recording === 'continuous' || (plan.clips && this.clips.collecting > 0))
      return { kbps: Math.max(plan.kbps, 256), fps: Math.max(plan.fps, 5), segmentS: this.o.segmentS };
    return undefined;
  }

  /** An alarm's still, held by the lane (now or at the start after a cut), into the alarm's evidence. */
  private deliverStill(s: Still): void {
    if (!s.for) return;
    const { alarm, raise } = s.for;
    if (!raise) {
      if (!this.clips.add(alarm, stillEntry(s)))
        this.o.log.warn({ alarm, recording: s.recording }, 'alarm still outside the evidence: its clip went before the still was taken');
      return;
    }
    const entries = [...raise, stillEntry(s)];
    this.o.outbox.enqueue('evidence', { ts: s.ts, alarm, entries, head: evidenceHead(this.o.unitId, alarm, entries) });
  }

  private onSegment(seg: Segment): void {
    this.clips.onSegment(seg);
    const feed = this.live.current;
    if (feed) this.track(this.sendLive(feed, seg));
    // The last clip closed on a rung where the camera sleeps between alarms.
    if (this.clips.collecting === 0 && this.o.plan().recording !== 'continuous' && !feed) this.track(this.apply());
  }

  /**
   * A live segment is a second name for the ring's file: the lane deletes its name when sent, the
   * ring its own. Once it is with the lane the feed may step on its ladder: the encoder restarts.
   */
  private async sendLive(feed: LiveFeed, seg: Segment): Promise<void> {
    const dir = join(this.o.dir, 'live');
    mkdirSync(dir, { recursive: true });
    const recording = `${feed.feed}-${seg.n}`;
    const path = join(dir, `${recording}.ts`);
    linkSync(seg.path, path);
    // The segment's own length: the one a rate change cut short is listed as what it holds.
    const durationMs = seg.durationMs ?? feed.segmentMs;
    await this.o.sink.enqueueFile(path, {
      recording,
      kind: 'live',
      type: 'video/mp2t',
      startTs: this.o.clock.now() - durationMs,
      durationMs,
    });
    if (!this.live.segment(seg.bytes, durationMs)) return;
    const { kbps, fps, audioKbps } = this.live.current ?? feed;
    this.o.log.info({ feed: feed.feed, kbps, fps, audioKbps, why: this.live.rateState?.why }, 'live feed rate stepped');
    await this.apply();
  }

  private onLive(feed: LiveFeed | undefined): void {
    this.o.log.info({ feed: feed?.feed, until: feed?.until }, feed ? 'live feed started' : 'live feed ended');
    this.track(this.apply());
  }

  private report(plan: VideoPlan): void {
    const profile = this.profile(plan);
    const feed = this.live.current;
    const encoder = this.o.source.kind === 'camera' ? this.o.source.camera.encoder : this.o.source.encoder;
    const backlog = this.o.backlog?.();
    const status: Status = {
      ts: this.o.clock.now(),
      mode: plan.mode,
      ...(plan.reason ? { reason: plan.reason } : {}),
      bitrateKbps: profile?.kbps ?? 0,
      fps: profile?.fps ?? 0,
      encoder: encoder === 'libx264' ? 'software' : 'hardware',
      audio: this.o.source.kind === 'rtsp' || this.o.source.camera.audioInput !== undefined,
      ...(feed ? { live: feed.feed } : {}),
      ringBytes: this.ring.heldBytes(),
      ringQuotaBytes: this.o.ringQuotaBytes,
      ...(backlog ? { backlogBytes: backlog.bytes, pinned: backlog.pinned } : {}),
      ...(this.snapshots.latest ? { snapshot: this.snapshots.latest } : {}),
    };
    // Sent on a change of what command sees (mode, rate, feed, evidence waiting), not on every segment's bytes.
    const key = JSON.stringify([status.mode, status.reason, status.bitrateKbps, status.fps, status.live, status.pinned]);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.o.log.info({ ...status, detail: plan.detail }, 'video plan');
    this.o.outbox.enqueue('video', status);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err: unknown) => this.o.log.warn({ err }, 'video task failed'));
    this.pending.add(t);
    void t.finally(() => this.pending.delete(t));
  }
}
