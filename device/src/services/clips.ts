import { closeSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvidenceEntry } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { evidenceHead, mediaIdFor, type RaisedAlarm, raiseEntries } from '../domain/ring-evidence.ts';
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

/** What a clip keeps on disk while it collects its post-roll (written once, when it opens). */
interface OpenClip {
  alarm: string;
  ts: number;
  entries: EvidenceEntry[];
  preRoll: number;
  postRoll: number;
  segmentMs: number;
}

/**
 * Clips around alarms. On a raise, the ring's newest segments (the pre-roll) are pinned into the
 * clip at once, and the next `postRoll` segments as they are recorded; then the clip's segments
 * are joined into one MPEG-TS file (segments of one recording concatenate byte for byte), handed to
 * the bulk lane pinned (never evicted before the fleet has it), and the alarm's evidence — the
 * raise-time entries, the still, the clip — goes out as an `evidence` message with its chain head.
 * A clip interrupted by a restart is closed at the next start with the segments it had.
 */
export class Clips {
  private readonly ring: Ring;
  private readonly sink: MediaSink;
  private readonly outbox: Pick<Outbox, 'enqueue'>;
  private readonly unitId: string;
  private readonly outDir: string;
  private readonly log: Logger;
  private readonly open = new Map<string, OpenClip & { got: number; extra: EvidenceEntry[] }>();

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
    const meta: OpenClip = { alarm: a.id, ts: a.ts, entries: raiseEntries(a), ...p };
    this.ring.pin(id, p.preRoll > 0 ? this.ring.latest(p.preRoll) : []);
    this.ring.seal(id, meta);
    this.open.set(id, { ...meta, got: 0, extra: [] });
    if (p.postRoll === 0) void this.close(id);
  }

  /** An entry made after the raise (the alarm's still), carried in the evidence message. */
  add(alarm: string, entry: EvidenceEntry): void {
    this.open.get(mediaIdFor('clip', alarm))?.extra.push(entry);
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

  /** At start: clips a restart interrupted are closed with the segments they hold. */
  async recover(): Promise<void> {
    for (const id of this.ring.clipIds()) {
      if (this.open.has(id)) continue;
      const meta = this.ring.manifest(id) as OpenClip | undefined;
      if (!meta) {
        this.ring.release(id);
        continue;
      }
      this.open.set(id, { ...meta, got: meta.postRoll, extra: [] });
      await this.close(id);
    }
  }

  private async close(id: string): Promise<void> {
    const c = this.open.get(id);
    if (!c) return;
    this.open.delete(id);
    const segments = this.ring.clipSegments(id);
    if (segments.length === 0) {
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
      renameSync(`${path}.tmp`, path);
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
      };
      const entries = [...c.entries, ...c.extra, clip];
      this.outbox.enqueue('evidence', { ts: c.ts, alarm: c.alarm, entries, head: evidenceHead(this.unitId, c.alarm, entries) });
      this.log.info({ clip: id, alarm: c.alarm, segments: segments.length, durationMs }, 'alarm clip handed to the upload');
      this.ring.release(id);
    } catch (err) {
      // Kept pinned in the ring: the next start tries again.
      this.log.error({ err, clip: id }, 'alarm clip could not be made');
    }
  }
}
