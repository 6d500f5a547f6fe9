import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { addRange, coversAll, type MediaAck, type MediaChunk, mergeRanges } from '@shouwang/protocol';
import type { Logger } from 'pino';
import type { MediaRecord, MediaStore } from '../storage/media-store.ts';
import type { BlobStore } from './blob-store.ts';

/**
 * Chunks → verified files. Each chunk is checked against its own SHA-256 and written in place in a
 * staging file (synced before the chunk is acknowledged to the broker), its range added to the
 * recording's row; when the ranges cover the file, the whole is checked against the SHA-256 its
 * chunks declared and handed to the media store. Chunks may come in any order and any number of
 * times. The unit hears what the fleet holds through `media-ack`: `complete` when the file is
 * stored (and again for a chunk of a file already complete), `partial` with the ranges held when
 * a file's last bytes came but a gap remains, when a whole file failed its hash (then with none:
 * everything again) and for every unfinished file when the unit comes online; `refused` past the
 * unit's quota or for a chunk that contradicts its file; `abandoned` for a chunk past offset 0 of
 * an upload retention gave up (the unit resumes from an offset whose bytes are gone): the unit
 * starts it again from 0, and that chunk takes the upload up afresh.
 *
 * Bad chunks are counted by reason and dropped; a unit cannot make the fleet store more than its
 * quota (`unitQuotaBytes`, counting files on the way).
 */
export type ChunkDropReason =
  | 'chunk-hash'
  | 'size-unknown'
  | 'out-of-range'
  | 'conflict'
  | 'quota'
  | 'duplicate'
  | 'file-hash'
  | 'abandoned';

export interface AssemblerOptions {
  store: MediaStore;
  blobs: BlobStore;
  stagingDir: string;
  unitQuotaBytes: number;
  /** Tells the unit what the fleet holds (the `media-ack` command); fire and forget. */
  ack: (unitId: string, ack: MediaAck) => void;
  now: () => number;
  log: Logger;
  /** Told when a recording has been stored (for the evidence check). */
  onComplete?: (m: MediaRecord) => void;
}

const MAX_ACK_RANGES = 64;

export class MediaAssembler {
  readonly dropped = new Map<ChunkDropReason, number>();
  readonly counts = { chunks: 0, bytes: 0, completed: 0 };
  readonly #o: AssemblerOptions;

  constructor(o: AssemblerOptions) {
    this.#o = o;
  }

  async take(unitId: string, chunk: MediaChunk): Promise<void> {
    const o = this.#o;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    if (createHash('sha256').update(chunk.data).digest('hex') !== hex(chunk.hash)) return this.#drop('chunk-hash', unitId, chunk);
    let m = await o.store.get(unitId, chunk.recording);
    if (!m) {
      if (chunk.size === undefined || chunk.sha256 === undefined) return this.#drop('size-unknown', unitId, chunk);
      if ((await o.store.unitBytes(unitId)) + chunk.size > o.unitQuotaBytes) {
        o.ack(unitId, { recording: chunk.recording, state: 'refused', have: [], reason: 'quota' });
        return this.#drop('quota', unitId, chunk);
      }
      const now = o.now();
      m = {
        unitId,
        recording: chunk.recording,
        kind: chunk.kind,
        type: chunk.type ?? null,
        size: chunk.size,
        sha256: hex(chunk.sha256),
        have: [],
        state: 'partial',
        alarmId: chunk.alarm ?? null,
        startTs: chunk.startTs ?? null,
        durationMs: chunk.durationMs ?? null,
        location: null,
        createdAt: now,
        updatedAt: now,
        completedAt: null,
      };
      await o.store.create(m);
    }
    if ((chunk.size !== undefined && chunk.size !== m.size) || (chunk.sha256 !== undefined && hex(chunk.sha256) !== m.sha256)) {
      o.ack(unitId, { recording: chunk.recording, state: 'refused', have: [], reason: 'conflict' });
      return this.#drop('conflict', unitId, chunk);
    }
    if (m.state === 'complete') {
      o.ack(unitId, { recording: m.recording, state: 'complete', have: [{ offset: 0, length: m.size }] });
      return this.#drop('duplicate', unitId, chunk);
    }
    if (m.state === 'abandoned') {
      if (chunk.offset !== 0) {
        o.ack(unitId, abandoned(m));
        return this.#drop('abandoned', unitId, chunk);
      }
      if ((await o.store.unitBytes(unitId)) + m.size > o.unitQuotaBytes) {
        o.ack(unitId, { recording: m.recording, state: 'refused', have: [], reason: 'quota' });
        return this.#drop('quota', unitId, chunk);
      }
      o.log.info({ unitId, recording: m.recording }, 'abandoned upload started again by the unit');
      m.state = 'partial';
      m.have = [];
    }
    const range = { offset: chunk.offset, length: chunk.data.length };
    if (range.offset + range.length > m.size) return this.#drop('out-of-range', unitId, chunk);
    this.counts.chunks++;
    this.counts.bytes += range.length;
    await this.#write(m, chunk);
    m.have = addRange(m.have, range);
    m.updatedAt = o.now();
    if (chunk.offset === 0) {
      m.type = chunk.type ?? m.type;
      m.startTs = chunk.startTs ?? m.startTs;
      m.durationMs = chunk.durationMs ?? m.durationMs;
      m.alarmId = chunk.alarm ?? m.alarmId;
    }
    if (coversAll(m.have, m.size)) return this.#finish(m);
    await o.store.update(m);
    if (range.offset + range.length === m.size) o.ack(unitId, partial(m));
  }

  /**
   * A unit came online: tell it what the fleet holds of each file it has not finished sending,
   * and that retention gave up the ones it abandoned, so the unit sends those again from 0 (or
   * drops them) now rather than on its next resume, which would go for nothing.
   */
  async unitOnline(unitId: string): Promise<void> {
    for (const m of await this.#o.store.unfinished(unitId)) this.#o.ack(unitId, m.state === 'abandoned' ? abandoned(m) : partial(m));
  }

  #staging(m: MediaRecord): string {
    return stagingPath(this.#o.stagingDir, m.unitId, m.recording);
  }

  async #write(m: MediaRecord, chunk: MediaChunk): Promise<void> {
    const path = this.#staging(m);
    await mkdir(join(this.#o.stagingDir, m.unitId), { recursive: true });
    const fh = await open(path, m.have.length === 0 ? 'w' : 'r+').catch(() => open(path, 'w'));
    try {
      await fh.write(chunk.data, 0, chunk.data.length, chunk.offset);
      // Synced before the broker hears PUBACK: what the row says has arrived, has.
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async #finish(m: MediaRecord): Promise<void> {
    const o = this.#o;
    const staging = this.#staging(m);
    if ((await fileSha256(staging)) !== m.sha256) {
      // A chunk acknowledged but lost with a crash before its sync, or a unit that lied: start over.
      this.#count('file-hash');
      o.log.warn({ unitId: m.unitId, recording: m.recording }, 'assembled file does not match its SHA-256; asking for all of it again');
      m.have = [];
      await o.store.update(m);
      await unlink(staging).catch(() => undefined);
      o.ack(m.unitId, partial(m));
      return;
    }
    const key = `${m.unitId}/${m.recording}`;
    await o.blobs.put(key, staging, { size: m.size, sha256: m.sha256, type: m.type });
    await unlink(staging).catch(() => undefined);
    m.state = 'complete';
    m.location = key;
    m.completedAt = o.now();
    await o.store.update(m);
    this.counts.completed++;
    o.log.info({ unitId: m.unitId, recording: m.recording, bytes: m.size, store: o.blobs.name }, 'media stored');
    o.ack(m.unitId, { recording: m.recording, state: 'complete', have: [{ offset: 0, length: m.size }] });
    o.onComplete?.(m);
  }

  #drop(reason: ChunkDropReason, unitId: string, chunk: MediaChunk): void {
    this.#count(reason);
    if (reason !== 'duplicate')
      this.#o.log.warn({ unitId, recording: chunk.recording, offset: chunk.offset, reason }, 'media chunk dropped');
  }

  #count(reason: ChunkDropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }
}

/** Where a recording is assembled until it is whole (retention.ts abandons what never is). */
export function stagingPath(dir: string, unitId: string, recording: string): string {
  return join(dir, unitId, `${recording}.part`);
}

function abandoned(m: MediaRecord): MediaAck {
  return { recording: m.recording, state: 'abandoned', have: [] };
}

function partial(m: MediaRecord): MediaAck {
  return { recording: m.recording, state: 'partial', have: mergeRanges(m.have).slice(0, MAX_ACK_RANGES) };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const b of createReadStream(path)) hash.update(b as Buffer);
  return hash.digest('hex');
}
