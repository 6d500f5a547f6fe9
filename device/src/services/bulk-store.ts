import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import {
  addRange,
  type ByteRange,
  firstGap,
  MEDIA_FILE_MAX_BYTES,
  type MediaAck,
  type MediaKind,
  type MediaType,
  mergeRanges,
} from '@shouwang/protocol';
import { MEDIA_PRIORITY, toEvict } from '../domain/bulk-lane.ts';
import { Counters } from '../drivers/counters.ts';
import { BULK_MIGRATIONS, type Migration, type MigrationResult, migrate } from './state-migrations.ts';

/**
 * The bulk lane's durable index: which media files wait to go up, and which of their bytes the
 * gateway has acknowledged. The bytes stay in the files their producer wrote (the recorder's
 * segments, clips and stills): copying them into the database would write every byte to the SD
 * card twice. A file is accepted once `enqueueFile` resolves — hashed, fsynced, indexed — and from
 * then on it belongs to the lane, which deletes it when the fleet holds it (`media-ack` complete)
 * or when it is evicted. Its producer must not change it afterwards.
 *
 * The sent ranges of each file are committed in batches after PUBACKs, so an agent killed in the
 * middle of an upload resumes after the last committed batch: it re-sends at most the chunks whose
 * PUBACK came in the last moments before the kill. The fleet's `media-ack` is the truth: while a
 * file still has unsent bytes its ranges are added to ours; once everything has been sent, the
 * fleet's ranges replace ours, so what it is missing (a chunk the gateway refused, a fleet crash)
 * goes again.
 */
export interface EnqueueOptions {
  /** Unique per unit; the fleet files the recording under it. */
  recording: string;
  kind: MediaKind;
  /** Never evicted before the fleet holds it (alarm clips and stills). */
  pinned?: boolean;
  type?: MediaType;
  /** Capture start and length, for the fleet's media rows and the player. */
  startTs?: number;
  durationMs?: number;
  /** The alarm a clip or still was taken for. */
  alarm?: string;
}

export type EnqueueResult =
  | { accepted: true; size: number; sha256: Buffer; evicted: string[] }
  | { accepted: false; reason: 'quota' | 'duplicate' | 'empty' | 'too-large' };

export interface BulkItem {
  id: number;
  recording: string;
  kind: MediaKind;
  path: string;
  size: number;
  sha256: Buffer;
  priority: number;
  pinned: boolean;
  meta: Pick<EnqueueOptions, 'type' | 'startTs' | 'durationMs' | 'alarm'>;
  created: number;
  sent: ByteRange[];
  state: 'sending' | 'refused';
  /** When the last unsent byte went: from then the lane waits for the fleet's answer. */
  sentAllAt: number | undefined;
}

export type BulkDropReason = 'evicted' | 'stale-live' | 'file-missing' | 'refused' | 'abandoned';

export interface BulkStoreOptions {
  /** Bytes of media the lane may hold; whole unpinned recordings are evicted beyond it. */
  quotaBytes: number;
  now: () => number;
  /** The schema history to open with; tests pass an older or a newer one to play another release. */
  migrations?: readonly Migration[];
}

export class BulkStore {
  readonly dropped = new Counters<BulkDropReason>();
  private readonly db: DatabaseSync;
  private readonly o: BulkStoreOptions;
  private readonly items = new Map<string, BulkItem>();
  private readonly stmt: { insert: StatementSync; remove: StatementSync; sent: StatementSync; state: StatementSync };

  /** What opening found: a `newer` file was written by a later release (after a rollback). */
  readonly schema: MigrationResult;

  private constructor(db: DatabaseSync, o: BulkStoreOptions, schema: MigrationResult) {
    this.db = db;
    this.schema = schema;
    this.o = o;
    this.stmt = {
      insert: db.prepare(
        'INSERT INTO bulk (recording, kind, path, size, sha256, priority, pinned, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      remove: db.prepare('DELETE FROM bulk WHERE recording = ?'),
      sent: db.prepare('UPDATE bulk SET sent = ? WHERE recording = ?'),
      state: db.prepare('UPDATE bulk SET state = ? WHERE recording = ?'),
    };
    const rows = db.prepare('SELECT * FROM bulk ORDER BY id').all() as unknown as Row[];
    for (const r of rows) this.items.set(r.recording, fromRow(r));
  }

  static open(path: string, o: BulkStoreOptions): BulkStore {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    // Same durability as the outbox (outbox.ts): a lost commit would resend, never lose, but FULL keeps it exact.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
    const schema = migrate(db, o.migrations ?? BULK_MIGRATIONS);
    return new BulkStore(db, o, schema);
  }

  /**
   * Hands a finished file to the lane (see the class comment for what that means). Resolves once
   * it is durable: hashed, fsynced, indexed, and room made by evicting whole unpinned recordings.
   * A pinned file is taken even over quota (the evidence of an alarm is never refused for room).
   */
  async enqueueFile(path: string, options: EnqueueOptions): Promise<EnqueueResult> {
    if (this.items.has(options.recording)) return { accepted: false, reason: 'duplicate' };
    const { size, sha256 } = await hashAndSync(path);
    if (size === 0) return { accepted: false, reason: 'empty' };
    if (size > MEDIA_FILE_MAX_BYTES) return { accepted: false, reason: 'too-large' };
    const pinned = options.pinned === true;
    const priority = MEDIA_PRIORITY[options.kind];
    const held = [...this.items.values()].map((i) => ({
      id: i.id,
      bytes: i.size,
      pinned: i.pinned,
      priority: i.priority,
      created: i.created,
    }));
    const plan = toEvict(held, this.o.quotaBytes, size);
    if (!plan.fits && !pinned) return { accepted: false, reason: 'quota' };
    // Again: another enqueue of the same name may have finished while this one was hashing.
    if (this.items.has(options.recording)) return { accepted: false, reason: 'duplicate' };
    const evicted = [...this.items.values()].filter((i) => plan.evict.includes(i.id));
    for (const e of evicted) await this.discard(e, 'evicted');
    const meta: BulkItem['meta'] = {};
    if (options.type !== undefined) meta.type = options.type;
    if (options.startTs !== undefined) meta.startTs = options.startTs;
    if (options.durationMs !== undefined) meta.durationMs = options.durationMs;
    if (options.alarm !== undefined) meta.alarm = options.alarm;
    const created = this.o.now();
    const { id } = this.stmt.insert.get(
      options.recording,
      options.kind,
      path,
      size,
      sha256,
      priority,
      pinned ? 1 : 0,
      JSON.stringify(meta),
      created,
    ) as { id: number };
    this.items.set(options.recording, {
      id,
      recording: options.recording,
      kind: options.kind,
      path,
      size,
      sha256,
      priority,
      pinned,
      meta,
      created,
      sent: [],
      state: 'sending',
      sentAllAt: undefined,
    });
    return { accepted: true, size, sha256, evicted: evicted.map((e) => e.recording) };
  }

  /** Recordings waiting, in upload order (class, then age). */
  list(): BulkItem[] {
    return [...this.items.values()].sort((a, b) => a.priority - b.priority || a.id - b.id);
  }

  get(recording: string): BulkItem | undefined {
    return this.items.get(recording);
  }

  heldBytes(): number {
    let n = 0;
    for (const i of this.items.values()) n += i.size;
    return n;
  }

  /** Bytes not yet acknowledged by the gateway, of files still to send. */
  backlogBytes(): number {
    let n = 0;
    for (const i of this.items.values()) {
      if (i.state === 'sending') n += i.size - i.sent.reduce((s, r) => s + r.length, 0);
    }
    return n;
  }

  /** When the oldest recording of `kind` with bytes not yet acknowledged by the gateway was accepted (undefined: none). */
  oldestWaiting(kind: MediaKind): number | undefined {
    let oldest: number | undefined;
    for (const i of this.items.values())
      if (i.kind === kind && i.state === 'sending' && i.sent.reduce((s, r) => s + r.length, 0) < i.size)
        oldest = Math.min(oldest ?? i.created, i.created);
    return oldest;
  }

  /** The gateway acknowledged these ranges; one commit for the batch. */
  markSent(batch: ReadonlyMap<string, readonly ByteRange[]>): void {
    this.tx(() => {
      for (const [recording, ranges] of batch) {
        const item = this.items.get(recording);
        if (!item) continue;
        let sent = item.sent;
        for (const r of ranges) sent = addRange(sent, r);
        item.sent = sent;
        this.stmt.sent.run(JSON.stringify(sent), recording);
      }
    });
  }

  /** Uploads the fleet abandoned that went again from offset 0 (the unit still held them whole). */
  restarted = 0;

  /** The fleet's word on one recording; the answer tells it whether the unit still has it. */
  async applyAck(ack: MediaAck): Promise<'sending' | 'done' | 'unknown'> {
    const item = this.items.get(ack.recording);
    if (!item) return 'unknown';
    if (ack.state === 'abandoned') {
      // The fleet holds none of it: all again if the file is still here whole (a live segment is no use late).
      if (item.kind === 'live' || !(await holdsWhole(item))) {
        await this.discard(item, 'abandoned');
        return 'done';
      }
      this.restarted++;
      item.sent = [];
      item.sentAllAt = undefined;
      this.stmt.sent.run('[]', item.recording);
      return 'sending';
    }
    if (ack.state === 'complete') {
      await this.discard(item);
      return 'done';
    }
    if (ack.state === 'refused') {
      this.dropped.inc('refused');
      if (!item.pinned) {
        await this.discard(item);
        return 'done';
      }
      item.state = 'refused';
      this.stmt.state.run('refused', item.recording);
      return 'done';
    }
    const unsent = firstGap(item.size, item.size, item.sent) !== undefined;
    item.sent = unsent ? mergeRanges([...item.sent, ...ack.have]) : mergeRanges(ack.have);
    item.sentAllAt = undefined;
    this.stmt.sent.run(JSON.stringify(item.sent), item.recording);
    return 'sending';
  }

  /** Removes a recording and its file (a live segment too old to play, a file that vanished). */
  async discard(item: BulkItem, reason?: BulkDropReason): Promise<void> {
    if (reason) this.dropped.inc(reason);
    this.items.delete(item.recording);
    this.stmt.remove.run(item.recording);
    await unlink(item.path).catch(() => undefined);
  }

  close(): void {
    this.db.close();
  }

  private tx(fn: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.db.exec('COMMIT');
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}

interface Row {
  id: number;
  recording: string;
  kind: MediaKind;
  path: string;
  size: number;
  sha256: Uint8Array;
  priority: number;
  pinned: number;
  meta: string;
  created: number;
  sent: string;
  state: 'sending' | 'refused';
}

function fromRow(r: Row): BulkItem {
  return {
    id: r.id,
    recording: r.recording,
    kind: r.kind,
    path: r.path,
    size: r.size,
    sha256: Buffer.from(r.sha256),
    priority: r.priority,
    pinned: r.pinned === 1,
    meta: JSON.parse(r.meta) as BulkItem['meta'],
    created: r.created,
    sent: JSON.parse(r.sent) as ByteRange[],
    state: r.state,
    sentAllAt: undefined,
  };
}

async function holdsWhole(item: BulkItem): Promise<boolean> {
  return (await stat(item.path).catch(() => undefined))?.size === item.size;
}

/** SHA-256 and size of a file, and its bytes made durable before the lane promises to send them. */
async function hashAndSync(path: string): Promise<{ size: number; sha256: Buffer }> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest() };
}
