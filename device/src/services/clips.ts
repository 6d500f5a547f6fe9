import { closeSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceEntry } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { evidenceHead, mediaIdFor, type RaisedAlarm, raiseEntries } from '../domain/ring-evidence.ts';
import { renameDurable } from './atomic-file.ts';
import type { EnqueueOptions, EnqueueResult } from './bulk-store.ts';
import type { Outbox } from './outbox.ts';
import { type Ring, type Segment, sha256File } from './ring.ts';

/**
 * Where finished media files go: the bulk lane (`BulkStore`), which owns a file once it accepts it.
 * Narrow on purpose: the recorder's side knows nothing of chunks, windows or acks.
 */
export interface MediaSink {
  enqueueFile(path: string, options: EnqueueOptions): Promise<EnqueueResult>;
}

/** What a clip keeps on disk while it collects its post-roll (written when it opens and when an entry joins it). */
interface OpenClip {
  alarm: string;
  ts: number;
  entries: EvidenceEntry[];
  preRoll: number;
  postRoll: number;
  segmentMs: number;
  /** Entries made after the raise (the still): on disk with the clip, so a restart does not lose them. */
  extra?: EvidenceEntry[];
  /** The segments the clip ends with when whole (the pre-roll it got and the post-roll), and the first post-roll one's number. */
  planned?: number;
  from?: number;
}

type Collecting = Required<OpenClip> & { got: number; recovered: boolean };

/** Closed clips whose evidence a late still may still join. */
const KEEP_CLOSED = 16;

/**
 * Clips around alarms. On a raise, the ring's newest segments (the pre-roll) are pinned into the
 * clip at once, and the next `postRoll` segments as they are recorded; then the clip's segments
 * are joined into one MPEG-TS file (segments of one recording concatenate byte for byte), handed to
 * the bulk lane pinned (never evicted before the fleet has it), and the alarm's evidence — the
 * raise-time entries, the still, the clip — goes out as an `evidence` message with its chain head.
 * The still's entry joins the clip's manifest on disk as soon as it is taken. A clip interrupted by
 * a restart is closed at the next start with the segments it had (and those of its post-roll the
 * ring holds unpinned), its evidence with every entry taken before the cut, the clip marked
 * `cut: 'restart'` when it is shorter than planned.
 */
export class Clips {
  private readonly ring: Ring;
  private readonly sink: MediaSink;
  private readonly outbox: Pick<Outbox, 'enqueue'>;
  private readonly unitId: string;
  private readonly outDir: string;
  private readonly log: Logger;
  private readonly open = new Map<string, Collecting>();
  /** Clips being joined and handed to the lane: their evidence is not sent yet. */
  private readonly closing = new Map<string, Collecting>();
  /** The entries sent for the clips closed last, by clip id. */
  private readonly closed = new Map<string, { alarm: string; ts: number; entries: EvidenceEntry[] }>();

  constructor(o: { ring: Ring; sink: MediaSink; outbox: Pick<Outbox, 'enqueue'>; unitId: string; outDir: string; log: Logger }) {
    this.ring = o.ring;
    this.sink = o.sink;
    this.outbox = o.outbox;
    this.unitId = o.unitId;
    this.outDir = o.outDir;
    this.log = o.log;
  }

  /** The head the alarm carries: its raise-time entries. */
  head(a: RaisedAlarm): string {
    return evidenceHead(this.unitId, a.id, raiseEntries(a));
  }

  /** Opens the alarm's clip: `preRoll` newest ring segments now (0 when the camera was asleep), `postRoll` to come. */
  start(a: RaisedAlarm, p: { preRoll: number; postRoll: number; segmentMs: number }): void {
    const id = mediaIdFor('clip', a.id);
    if (this.open.has(id)) return;
    this.closed.delete(id);
    const from = this.ring.nextNumber();
    this.ring.pin(id, p.preRoll > 0 ? this.ring.latest(p.preRoll) : []);
    const meta: Required<OpenClip> = {
      alarm: a.id,
      ts: a.ts,
      entries: raiseEntries(a),
      ...p,
      extra: [],
      planned: this.ring.clipSegments(id).length + p.postRoll,
      from,
    };
    this.ring.seal(id, meta);
    this.open.set(id, { ...meta, got: 0, recovered: false });
    if (p.postRoll === 0) void this.close(id);
  }

  /**
   * An entry made after the raise (the alarm's still), carried in the evidence message: written
   * into the clip's manifest before this returns, so an agent killed before the clip closes still
   * sends it. A clip being joined takes it into the evidence it is about to send; one already sent
   * sends its evidence again, with it; one a restart interrupted (at start, before `recover`) takes
   * it into its manifest. False when the alarm has no clip this agent knows of.
   */
  add(alarm: string, entry: EvidenceEntry): boolean {
    const id = mediaIdFor('clip', alarm);
    const c = this.open.get(id);
    if (c) {
      c.extra.push(entry);
      this.ring.seal(id, manifestOf(c));
      return true;
    }
    const closing = this.closing.get(id);
    if (closing) {
      closing.extra.push(entry);
      return true;
    }
    const sent = this.closed.get(id);
    if (sent) {
      sent.entries = [...sent.entries, entry];
      this.outbox.enqueue('evidence', { ts: sent.ts, alarm, entries: sent.entries, head: evidenceHead(this.unitId, alarm, sent.entries) });
      return true;
    }
    // At start, before `recover`: the clip a restart interrupted takes it into the manifest it will be closed with.
    const cut = this.ring.manifest(id) as OpenClip | undefined;
    if (!cut) return false;
    const extra = cut.extra ?? [];
    if (!extra.some((e) => e.recording === entry.recording)) this.ring.seal(id, { ...cut, extra: [...extra, entry] });
    return true;
  }

  /** Clips still collecting post-roll. */
  get collecting(): number {
    return this.open.size;
  }

  onSegment(seg: Segment): void {
    for (const [id, c] of this.open) {
      this.ring.pin(id, [seg]);
      c.got++;
      if (c.got >= c.postRoll) void this.close(id);
    }
  }

  /**
   * At start: clips a restart interrupted are closed with the segments they hold, and the ring's
   * segments of their post-roll that ffmpeg finished but the agent had not pinned yet (a report
   * lost with the kill). One still short of its post-roll is sent marked `cut: 'restart'`.
   */
  async recover(): Promise<void> {
    for (const id of this.ring.clipIds()) {
      if (this.open.has(id)) continue;
      const meta = this.ring.manifest(id) as OpenClip | undefined;
      if (!meta) {
        this.ring.release(id);
        continue;
      }
      const held = this.ring.clipSegments(id);
      const planned = meta.planned ?? held.length;
      const from = meta.from ?? Number.POSITIVE_INFINITY;
      const newest = held.at(-1)?.n ?? -1;
      const unpinned = this.ring.segments().filter((s) => s.n >= from && s.n > newest);
      if (held.length < planned) this.ring.pin(id, unpinned.slice(0, planned - held.length));
      this.open.set(id, { ...meta, extra: meta.extra ?? [], planned, from, got: meta.postRoll, recovered: true });
      await this.close(id);
    }
  }

  private async close(id: string): Promise<void> {
    const c = this.open.get(id);
    if (!c) return;
    this.open.delete(id);
    this.closing.set(id, c);
    try {
      await this.finish(id, c);
    } finally {
      this.closing.delete(id);
    }
  }

  private async finish(id: string, c: Collecting): Promise<void> {
    const segments = this.ring.clipSegments(id);
    const cut = c.recovered && segments.length < c.planned ? ({ cut: 'restart' } as const) : {};
    if (segments.length === 0) {
      // Nothing was recorded before the cut: the evidence says so, with what was taken.
      const entries = [...c.entries, ...c.extra, ...(c.recovered ? [{ part: 'clip' as const, ts: c.ts, ...cut }] : [])];
      if (entries.length > 0) this.send(id, c, entries);
      this.ring.release(id);
      return;
    }
    try {
      mkdirSync(this.outDir, { recursive: true });
      const path = join(this.outDir, `${id}.ts`);
      // Built aside and renamed: a restart that builds it again replaces it whole, with the same bytes.
      // One segment in memory at a time: a long clip at 1 Mbit/s is tens of MB.
      const fd = openSync(`${path}.tmp`, 'w');
      try {
        for (const seg of segments) writeSync(fd, await readFile(seg.path));
      } finally {
        closeSync(fd);
      }
      renameDurable(`${path}.tmp`, path);
      const startTs = Math.max(0, c.ts - c.preRoll * c.segmentMs);
      const durationMs = segments.length * c.segmentMs;
      const r = await this.sink.enqueueFile(path, {
        recording: id,
        kind: 'clip',
        pinned: true,
        type: 'video/mp2t',
        startTs,
        durationMs,
        alarm: c.alarm,
      });
      if (!r.accepted && r.reason !== 'duplicate') throw new Error(`the upload lane refused it: ${r.reason}`);
      const clip: EvidenceEntry = {
        part: 'clip',
        ts: startTs,
        recording: id,
        bytes: r.accepted ? r.size : statSync(path).size,
        sha256: r.accepted ? r.sha256.toString('hex') : sha256File(path),
        ...cut,
      };
      this.send(id, c, [...c.entries, ...c.extra, clip]);
      const log = { clip: id, alarm: c.alarm, segments: segments.length, planned: c.planned, durationMs };
      if (cut.cut) this.log.warn(log, 'alarm clip cut short by a restart, handed to the upload with what it holds');
      else this.log.info(log, 'alarm clip handed to the upload');
      this.ring.release(id);
    } catch (err) {
      // Kept pinned in the ring: the next start tries again.
      this.log.error({ err, clip: id }, 'alarm clip could not be made');
    }
  }

  private send(id: string, c: Collecting, entries: EvidenceEntry[]): void {
    this.outbox.enqueue('evidence', { ts: c.ts, alarm: c.alarm, entries, head: evidenceHead(this.unitId, c.alarm, entries) });
    this.closed.set(id, { alarm: c.alarm, ts: c.ts, entries });
    for (const old of this.closed.keys()) if (this.closed.size > KEEP_CLOSED) this.closed.delete(old);
  }
}

function manifestOf(c: Collecting): Required<OpenClip> {
  const { got: _got, recovered: _recovered, ...meta } = c;
  return meta;
}
