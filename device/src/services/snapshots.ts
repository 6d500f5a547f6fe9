import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceEntry } from '@shouwang/protocol';
import { mediaIdFor } from '../domain/ring-evidence.ts';
import type { SnapshotSize } from '../domain/video-ladder.ts';
import { grabStill } from './camera.ts';
import type { MediaSink } from './clips.ts';
import { sha256File } from './ring.ts';

/**
 * Stills: on the schedule and on each alarm, at the size the ladder gives (a thumbnail on
 * satellite). Each goes to the bulk lane, which owns the file from then on; an alarm's still is
 * pinned (never evicted before the fleet has it) and becomes an entry of the alarm's evidence.
 */
export interface Still {
  recording: string;
  path: string;
  bytes: number;
  sha256: string;
  ts: number;
}

export class Snapshots {
  private readonly dir: string;
  private readonly input: readonly string[];
  private readonly sink: MediaSink;
  /** The newest ring segment while recording (the camera is the recorder's then). */
  private readonly latestSegment: () => string | undefined;
  private last: string | undefined;

  constructor(o: { dir: string; input: readonly string[]; sink: MediaSink; latestSegment: () => string | undefined }) {
    this.dir = o.dir;
    this.input = o.input;
    this.sink = o.sink;
    this.latestSegment = o.latestSegment;
  }

  /** The newest still handed to the lane (shown instead of a refused live feed). */
  get latest(): string | undefined {
    return this.last;
  }

  /** Commissioning's camera check: a still taken and measured, then deleted; resolves with its bytes. */
  async check(ts: number, size: SnapshotSize): Promise<number> {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `check-${ts.toString(36)}.jpg`);
    const segment = this.latestSegment();
    try {
      await grabStill(segment ? { segment } : { input: this.input }, size, file);
      return statSync(file).size;
    } finally {
      rmSync(file, { force: true });
    }
  }

  async take(ts: number, size: SnapshotSize, alarm?: string): Promise<Still> {
    mkdirSync(this.dir, { recursive: true });
    const recording = alarm ? mediaIdFor('snap', alarm) : `snap-${ts.toString(36)}`;
    const path = join(this.dir, `${recording}.jpg`);
    const segment = this.latestSegment();
    await grabStill(segment ? { segment } : { input: this.input }, size, path);
    const still = { recording, path, bytes: statSync(path).size, sha256: sha256File(path), ts };
    const r = await this.sink.enqueueFile(path, {
      recording,
      kind: 'snapshot',
      type: 'image/jpeg',
      startTs: ts,
      pinned: alarm !== undefined,
      ...(alarm ? { alarm } : {}),
    });
    if (!r.accepted && r.reason !== 'duplicate') throw new Error(`still ${recording} not taken by the upload lane: ${r.reason}`);
    this.last = recording;
    return still;
  }
}

export function stillEntry(s: Still): EvidenceEntry {
  return { part: 'snapshot', ts: s.ts, recording: s.recording, bytes: s.bytes, sha256: s.sha256 };
}
