import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { planEviction } from '../domain/ring-eviction.ts';
import { writeFileAtomic } from './atomic-file.ts';

/**
 * The recording ring on disk: short MPEG-TS segments in `<root>/ring/`, and the clips that pin some
 * of them in `<root>/clips/<clip>/` — hard links to the ring's files, so a clip costs no copy and
 * the ring may drop its own name for a segment while the clip still holds the data.
 *
 * No index file: the directory is the index. ffmpeg writes `seg-<n>.part` and the recorder renames
 * it `seg-<n>.ts` when ffmpeg reports it complete. On open, the newest `.part` is the segment that
 * was being written when the power went (or the agent was killed) and is discarded; an older
 * `.part` is one ffmpeg finished whose rename the kernel had not yet written back, and is kept.
 * Nothing is fsynced per segment (a card would wear at one journal commit every two seconds); a
 * clip's segments and its manifest are, once, when the clip closes.
 */
export interface Segment {
  n: number;
  path: string;
  bytes: number;
  /** Its length as ffmpeg reported it, ms; unknown for a segment found on disk at start. */
  durationMs?: number;
}

export interface RingOpenReport {
  segments: number;
  /** The partial segment discarded (at most one). */
  discarded: string[];
  /** Finished segments whose rename was lost, recovered. */
  recovered: string[];
}

const SEG = /^seg-(\d{10})\.(ts|part)$/;
export const segName = (n: number, ext: 'ts' | 'part' = 'ts') => `seg-${String(n).padStart(10, '0')}.${ext}`;
export const MANIFEST = 'clip.json';

export class Ring {
  readonly ringDir: string;
  readonly clipsDir: string;
  private readonly quotaBytes: number;
  private readonly ring = new Map<number, Segment>();
  /** clip id → the segment numbers it holds. */
  private readonly clips = new Map<string, Set<number>>();
  /** Bytes of each pinned segment (whether or not the ring still names it). */
  private readonly pinnedBytes = new Map<number, number>();
  private full = false;

  constructor(root: string, quotaBytes: number) {
    this.ringDir = join(root, 'ring');
    this.clipsDir = join(root, 'clips');
    this.quotaBytes = quotaBytes;
  }

  /** Rebuilds the index from the directories, settling what an interrupted run left. Safe to call again. */
  open(): RingOpenReport {
    mkdirSync(this.ringDir, { recursive: true });
    mkdirSync(this.clipsDir, { recursive: true });
    this.ring.clear();
    this.clips.clear();
    this.pinnedBytes.clear();
    const report: RingOpenReport = { segments: 0, discarded: [], recovered: [] };
    const found = readdirSync(this.ringDir)
      .map((f) => ({ f, m: SEG.exec(f) }))
      .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
      .map(({ f, m }) => ({ f, n: Number(m[1]), part: m[2] === 'part' }))
      .sort((a, b) => a.n - b.n);
    const newest = found[found.length - 1];
    for (const s of found) {
      const from = join(this.ringDir, s.f);
      if (s.part && s === newest) {
        rmSync(from, { force: true });
        report.discarded.push(s.f);
        continue;
      }
      const path = join(this.ringDir, segName(s.n));
      if (s.part) {
        renameSync(from, path);
        report.recovered.push(s.f);
      }
      this.ring.set(s.n, { n: s.n, path, bytes: statSync(path).size });
    }
    for (const id of readdirSync(this.clipsDir)) {
      const held = new Set<number>();
      for (const f of readdirSync(join(this.clipsDir, id))) {
        const m = SEG.exec(f);
        if (!m || m[2] !== 'ts') continue;
        const n = Number(m[1]);
        held.add(n);
        this.pinnedBytes.set(n, statSync(join(this.clipsDir, id, f)).size);
      }
      this.clips.set(id, held);
    }
    report.segments = this.ring.size;
    return report;
  }

  /** The number the next segment takes: after every segment the ring or a clip has seen. */
  nextNumber(): number {
    return Math.max(-1, ...this.ring.keys(), ...this.pinnedBytes.keys()) + 1;
  }

  /** ffmpeg finished `seg-<n>.part`: name it a segment, then keep the ring inside its quota. */
  complete(n: number, durationMs?: number): Segment {
    const path = join(this.ringDir, segName(n));
    renameSync(join(this.ringDir, segName(n, 'part')), path);
    const seg: Segment = { n, path, bytes: statSync(path).size, ...(durationMs === undefined ? {} : { durationMs }) };
    this.ring.set(n, seg);
    this.enforceQuota();
    return seg;
  }

  /** The newest `count` segments, oldest first (a clip's pre-roll). */
  latest(count: number): Segment[] {
    return [...this.ring.values()].sort((a, b) => a.n - b.n).slice(-count);
  }

  /** Pins segments into clip `id` (created if new). A segment the ring no longer has is skipped. */
  pin(id: string, segments: readonly Segment[]): void {
    const dir = join(this.clipsDir, id);
    mkdirSync(dir, { recursive: true });
    const held = this.clips.get(id) ?? new Set<number>();
    this.clips.set(id, held);
    for (const s of segments) {
      if (held.has(s.n) || !this.ring.has(s.n)) continue;
      linkSync(s.path, join(dir, segName(s.n)));
      held.add(s.n);
      this.pinnedBytes.set(s.n, s.bytes);
    }
  }

  /** A clip's segments, oldest first. */
  clipSegments(id: string): Segment[] {
    const dir = join(this.clipsDir, id);
    return [...(this.clips.get(id) ?? [])]
      .sort((a, b) => a - b)
      .map((n) => ({ n, path: join(dir, segName(n)), bytes: this.pinnedBytes.get(n) ?? 0 }));
  }

  clipIds(): string[] {
    return [...this.clips.keys()].sort();
  }

  /** Makes a clip durable: its segments' data, then its manifest (temp + fsync + rename + directory fsync). */
  seal(id: string, manifest: unknown): void {
    for (const s of this.clipSegments(id)) {
      const fd = openSync(s.path, 'r');
      try {
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    writeFileAtomic(join(this.clipsDir, id, MANIFEST), `${JSON.stringify(manifest)}\n`);
  }

  /** The sealed manifest, or undefined for a clip still collecting its post-roll (or interrupted doing so). */
  manifest(id: string): unknown {
    try {
      return JSON.parse(readFileSync(join(this.clipsDir, id, MANIFEST), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** The clip has been uploaded (or given up by an operator): its pins go, and the quota may use its space. */
  release(id: string): void {
    rmSync(join(this.clipsDir, id), { recursive: true, force: true });
    this.clips.delete(id);
    const still = new Set([...this.clips.values()].flatMap((s) => [...s]));
    for (const n of [...this.pinnedBytes.keys()]) if (!still.has(n)) this.pinnedBytes.delete(n);
    this.enforceQuota();
  }

  /** Bytes the ring and clips hold, each segment once. */
  heldBytes(): number {
    let held = 0;
    for (const s of this.ring.values()) held += s.bytes;
    for (const [n, b] of this.pinnedBytes) if (!this.ring.has(n)) held += b;
    return held;
  }

  /** Pinned clips alone fill the quota: the recorder should add nothing until one is uploaded. */
  get isFull(): boolean {
    return this.full;
  }

  segments(): Segment[] {
    return [...this.ring.values()].sort((a, b) => a.n - b.n);
  }

  private enforceQuota(): void {
    const segs = [...this.ring.values()].map((s) => ({ n: s.n, bytes: s.bytes, pinned: this.pinnedBytes.has(s.n) }));
    let clipOnly = 0;
    for (const [n, b] of this.pinnedBytes) if (!this.ring.has(n)) clipOnly += b;
    const plan = planEviction(segs, clipOnly, this.quotaBytes);
    for (const n of plan.evict) {
      const s = this.ring.get(n);
      if (!s) continue;
      rmSync(s.path, { force: true });
      this.ring.delete(n);
    }
    this.full = plan.full;
  }
}

/** SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
