import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceEntry } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { mediaIdFor } from '../domain/ring-evidence.ts';
import type { SnapshotSize } from '../domain/video-ladder.ts';
import { readJsonFile, renameDurable, writeFileAtomic } from './atomic-file.ts';
import { grabStill } from './camera.ts';
import type { MediaSink } from './clips.ts';
import { sha256File } from './ring.ts';

/** The alarm a still is taken for. */
export interface StillFor {
  alarm: string;
  /** The alarm's raise-time entries when no clip is coming: the still completes its evidence. Absent: the still joins the alarm's clip. */
  raise?: EvidenceEntry[];
}

export interface Still {
  recording: string;
  path: string;
  bytes: number;
  sha256: string;
  ts: number;
  for?: StillFor;
}

/** What a start found of stills an interrupted run left. */
export interface StillsRecovery {
  /** Grabbed whole before the cut and handed to the lane now. */
  queued: number;
  /** Half-written files (a grab cut off) removed. */
  partial: number;
  /** Stills whose grab the cut stopped before anything whole was on disk. */
  lost: number;
}

/** What is on disk beside a still from before its grab until the lane holds it and its entry is delivered. */
interface Pending {
  recording: string;
  ts: number;
  for?: StillFor;
}

/** ffmpeg writes here (its muxer follows the extension); only a whole still is renamed to `<recording>.jpg`. */
const PART = '.part.jpg';
const PENDING = '.pending.json';

/**
 * Stills: on the schedule and on each alarm, at the size the ladder gives (a thumbnail on
 * satellite). Each goes to the bulk lane, which owns the file from then on; an alarm's still is
 * pinned (never evicted before the fleet has it) and becomes an entry of the alarm's evidence
 * (`deliver`).
 *
 * A power cut may come at any point: between the grab and the lane's commit, ffmpeg's file and the
 * lane's index are two writes. So a still is announced on disk first (`<recording>.pending.json`:
 * its time and alarm), grabbed to a temporary name and renamed into place durably once whole, and
 * the announcement goes only once the lane holds the still and its entry is delivered. `recover()`
 * at start hands every still announced and whole to the lane (again: the lane answers `duplicate`
 * for one it already took) and delivers its entry, removes half-written files, and counts the
 * stills a cut stopped mid-grab.
 */
export class Snapshots {
  private readonly dir: string;
  private readonly input: readonly string[];
  private readonly sink: MediaSink;
  private readonly log: Logger;
  /** Puts an alarm's still into its evidence; called once the lane holds it, synchronously (a cut after it finds the entry on disk). */
  private readonly deliver: (s: Still) => void;
  /** The newest ring segment while recording (the camera is the recorder's then). */
  private readonly latestSegment: () => string | undefined;
  private last: string | undefined;
  /** Files of this run's grabs still being written: not a cut's leftovers (a commissioning check or an alarm may run beside `recover`). */
  private readonly writing = new Set<string>();

  constructor(o: {
    dir: string;
    input: readonly string[];
    sink: MediaSink;
    log: Logger;
    deliver?: (s: Still) => void;
    latestSegment: () => string | undefined;
  }) {
    this.dir = o.dir;
    this.input = o.input;
    this.sink = o.sink;
    this.log = o.log;
    this.deliver = o.deliver ?? (() => undefined);
    this.latestSegment = o.latestSegment;
  }

  /** The newest still handed to the lane (shown instead of a refused live feed). */
  get latest(): string | undefined {
    return this.last;
  }

  /** Commissioning's camera check: a still taken and measured, then deleted; resolves with its bytes. */
  async check(ts: number, size: SnapshotSize): Promise<number> {
    mkdirSync(this.dir, { recursive: true });
    // A temporary name: one a cut leaves behind is removed at the next start.
    const name = `check-${ts.toString(36)}${PART}`;
    const file = join(this.dir, name);
    this.writing.add(name);
    try {
      await this.grab(size, file);
      return statSync(file).size;
    } finally {
      rmSync(file, { force: true });
      this.writing.delete(name);
    }
  }

  async take(ts: number, size: SnapshotSize, alarm?: StillFor): Promise<Still> {
    mkdirSync(this.dir, { recursive: true });
    const recording = alarm ? mediaIdFor('snap', alarm.alarm) : `snap-${ts.toString(36)}`;
    const pending: Pending = { recording, ts, ...(alarm ? { for: alarm } : {}) };
    const names = [`${recording}${PENDING}`, `${recording}${PENDING}.tmp`, `${recording}${PART}`];
    for (const n of names) this.writing.add(n);
    try {
      writeFileAtomic(this.pendingPath(recording), JSON.stringify(pending));
      const part = join(this.dir, `${recording}${PART}`);
      try {
        await this.grab(size, part);
      } catch (err) {
        // No still (the camera failed): nothing for a restart to look for.
        rmSync(part, { force: true });
        rmSync(this.pendingPath(recording), { force: true });
        throw err;
      }
      renameDurable(part, this.stillPath(recording));
      return await this.queue(pending);
    } finally {
      for (const n of names) this.writing.delete(n);
    }
  }

  /** At start, before anything new is taken: settles what an interrupted run left (see the class comment). */
  async recover(): Promise<StillsRecovery> {
    const r: StillsRecovery = { queued: 0, partial: 0, lost: 0 };
    if (!existsSync(this.dir)) return r;
    const names = readdirSync(this.dir).filter((n) => !this.writing.has(n));
    for (const name of names.filter((n) => n.endsWith(PART) || n.endsWith(`${PENDING}.tmp`))) {
      rmSync(join(this.dir, name), { force: true });
      r.partial++;
    }
    // Which stills are whole, all read before the first await: from then on the lane may send one and delete its file.
    const found = names
      .filter((n) => n.endsWith(PENDING))
      .map((name) => ({ name, pending: readJsonFile<Pending | undefined>(join(this.dir, name), undefined) }))
      .map((f) => ({ ...f, whole: f.pending !== undefined && existsSync(this.stillPath(f.pending.recording)) }));
    for (const { name, pending, whole } of found) {
      if (pending && whole) {
        try {
          await this.queue(pending);
          r.queued++;
        } catch (err) {
          this.log.error({ err, recording: pending.recording }, 'still from before the restart not taken by the upload lane');
        }
        continue;
      }
      rmSync(join(this.dir, name), { force: true });
      r.lost++;
      this.log.warn({ recording: pending?.recording, alarm: pending?.for?.alarm }, 'still cut off mid-grab by a restart: none taken');
    }
    if (r.queued + r.partial + r.lost > 0) this.log.warn(r, 'stills settled after an interrupted run');
    return r;
  }

  private grab(size: SnapshotSize, file: string): Promise<void> {
    const segment = this.latestSegment();
    return grabStill(segment ? { segment } : { input: this.input }, size, file);
  }

  /** Hands a whole still to the lane, delivers its entry, then forgets it; one the lane refuses is removed. */
  private async queue(p: Pending): Promise<Still> {
    const path = this.stillPath(p.recording);
    const r = await this.sink.enqueueFile(path, {
      recording: p.recording,
      kind: 'snapshot',
      type: 'image/jpeg',
      startTs: p.ts,
      pinned: p.for !== undefined,
      ...(p.for ? { alarm: p.for.alarm } : {}),
    });
    if (!r.accepted && r.reason !== 'duplicate') {
      rmSync(path, { force: true });
      rmSync(this.pendingPath(p.recording), { force: true });
      throw new Error(`still ${p.recording} not taken by the upload lane: ${r.reason}`);
    }
    const still: Still = {
      recording: p.recording,
      path,
      bytes: r.accepted ? r.size : statSync(path).size,
      sha256: r.accepted ? r.sha256.toString('hex') : sha256File(path),
      ts: p.ts,
      ...(p.for ? { for: p.for } : {}),
    };
    this.deliver(still);
    rmSync(this.pendingPath(p.recording), { force: true });
    this.last = p.recording;
    return still;
  }

  private stillPath(recording: string): string {
    return join(this.dir, `${recording}.jpg`);
  }

  private pendingPath(recording: string): string {
    return join(this.dir, `${recording}${PENDING}`);
  }
}

export function stillEntry(s: Still): EvidenceEntry {
  return { part: 'snapshot', ts: s.ts, recording: s.recording, bytes: s.bytes, sha256: s.sha256 };
}
