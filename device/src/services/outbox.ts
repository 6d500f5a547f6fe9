import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { UPLINK, type UplinkKind, type UplinkPayload } from '@shouwang/protocol';
import { type Migration, type MigrationResult, migrate, OUTBOX_MIGRATIONS } from './state-migrations.ts';

/**
 * The durable store-and-forward queue. A reading is "accepted" once `enqueue` returns: from then on
 * it survives kill -9 and power cuts until the gateway PUBACKs it (`ack`).
 *
 * SQLite in WAL mode with synchronous=FULL. FULL fsyncs the WAL on every commit; NORMAL would fsync
 * only at checkpoints and can lose the last commits on a power cut (not on a process crash).
 * Losing a commit is worse here than losing a reading: it would also roll back the sequence
 * counter, and a reused (unit, seq) makes the gateway's dedupe discard a *new* message as a
 * duplicate. The price is one fsync per commit; the agent commits a few times a minute (telemetry
 * is batched), so FULL costs nothing that matters on a Pi's SD card.
 *
 * Priority classes come from the protocol catalog (UPLINK[kind].priority: alarm 0 > event 1 >
 * status/telemetry 2 > bulk 3). Rows are taken by (priority, id), so alarms go first and each
 * stream (kind) stays in enqueue order.
 */
export interface OutboxRow {
  id: number;
  seq: number;
  kind: UplinkKind;
  priority: number;
  payload: UplinkPayload<UplinkKind>;
  bytes: number;
}

export interface OutboxOptions {
  /** Backlog size (payload bytes as JSON) above which low classes are thinned. Alarms are never dropped. */
  quotaBytes: number;
  /** Told whenever an enqueue pushed the backlog over quota and rows were thinned. */
  onThinned?: (r: DownsampleResult) => void;
  /** The schema history to open with; tests pass an older or a newer one to play another release. */
  migrations?: readonly Migration[];
}

export interface DownsampleResult {
  dropped: number;
  byKind: Partial<Record<UplinkKind, number>>;
}

type WithoutSeq<K extends UplinkKind> = Omit<UplinkPayload<K>, 'seq'>;

/** Classes that may be thinned when over quota, cheapest loss first. Alarms and events never. */
const THINNABLE_PRIORITIES = [3, 2] as const;

export class Outbox {
  private readonly db: DatabaseSync;
  private readonly quotaBytes: number;
  private readonly onThinned: ((r: DownsampleResult) => void) | undefined;
  private readonly stmt: {
    bumpSeq: StatementSync;
    insert: StatementSync;
    ack: StatementSync;
    size: StatementSync;
    metaGet: StatementSync;
    metaSet: StatementSync;
  };
  private bytesCache: number;
  private readonly nextStmts = new Map<string, StatementSync>();

  /** What opening found: a `newer` file was written by a later release (after a rollback). */
  readonly schema: MigrationResult;

  private constructor(db: DatabaseSync, options: OutboxOptions, schema: MigrationResult) {
    this.db = db;
    this.schema = schema;
    this.quotaBytes = options.quotaBytes;
    this.onThinned = options.onThinned;
    this.stmt = {
      bumpSeq: db.prepare(`UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value`),
      insert: db.prepare('INSERT INTO outbox (seq, kind, priority, payload, bytes) VALUES (?, ?, ?, ?, ?)'),
      ack: db.prepare('DELETE FROM outbox WHERE id = ? RETURNING bytes'),
      size: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox'),
      metaGet: db.prepare('SELECT value FROM meta WHERE key = ?'),
      metaSet: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    };
    this.bytesCache = this.size().bytes;
  }

  static open(path: string, options: OutboxOptions): Outbox {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      PRAGMA cache_size = -256; -- KiB: the outbox is written at the tail and read at the head; 2 MB of cache buys nothing
    `);
    const schema = migrate(db, options.migrations ?? OUTBOX_MIGRATIONS);
    return new Outbox(db, options, schema);
  }

  /**
   * Stamps the next per-unit seq and stores the message durably; returns the full payload.
   * `priority` overrides the kind's class for one row (the status a unit sends before its radio
   * closes goes ahead of routine data of its kind).
   */
  enqueue<K extends UplinkKind>(kind: K, payload: WithoutSeq<K>, priority: number = UPLINK[kind].priority): UplinkPayload<K> {
    const full = this.tx(() => {
      const seq = this.nextSeq();
      const full = { ...payload, seq } as UplinkPayload<K>;
      const json = JSON.stringify(full);
      this.stmt.insert.run(seq, kind, priority, json, json.length);
      this.bytesCache += json.length;
      return full;
    });
    // Thin in steps of ~1/16 of the quota so a long outage pays for a DELETE now and then, not on every write.
    if (this.bytesCache > this.quotaBytes + this.quotaBytes / 16) {
      const r = this.downsample();
      if (r.dropped > 0) this.onThinned?.(r);
    }
    return full;
  }

  /**
   * The next rows to send, by priority then age, skipping those already in flight. `kinds`
   * restricts the classes a thin link may carry.
   */
  next(limit: number, options: { skip?: ReadonlySet<number>; kinds?: readonly UplinkKind[] } = {}): OutboxRow[] {
    const skip = options.skip ?? new Set<number>();
    const kinds = options.kinds;
    const key = kinds?.join(',') ?? '';
    let stmt = this.nextStmts.get(key);
    if (!stmt) {
      const where = kinds ? `WHERE kind IN (${kinds.map(() => '?').join(',')})` : '';
      stmt = this.db.prepare(`SELECT id, seq, kind, priority, payload, bytes FROM outbox ${where} ORDER BY priority, id LIMIT ?`);
      this.nextStmts.set(key, stmt);
    }
    const rows = stmt.all(...(kinds ?? []), limit + skip.size) as unknown as (Omit<OutboxRow, 'payload'> & { payload: string })[];
    const out: OutboxRow[] = [];
    for (const r of rows) {
      if (skip.has(r.id)) continue;
      out.push({ ...r, payload: JSON.parse(r.payload) as UplinkPayload<UplinkKind> });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The gateway has them (PUBACK): the rows leave the outbox, in one commit. */
  ack(ids: Iterable<number>): void {
    this.tx(() => {
      for (const id of ids) {
        const r = this.stmt.ack.get(id) as { bytes: number } | undefined;
        if (r) this.bytesCache -= r.bytes;
      }
    });
  }

  /** Rows waiting of the given kinds (e.g. is there an alarm to send?). */
  pending(kinds: readonly UplinkKind[]): number {
    const key = `pending:${kinds.join(',')}`;
    let stmt = this.nextStmts.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`SELECT count(*) AS n FROM outbox WHERE kind IN (${kinds.map(() => '?').join(',')})`);
      this.nextStmts.set(key, stmt);
    }
    return (stmt.get(...kinds) as { n: number }).n;
  }

  size(): { count: number; bytes: number } {
    const r = this.stmt.size.get() as { n: number; b: number };
    return { count: r.n, bytes: r.b };
  }

  /** Sequence numbers handed out so far (the last one), -1 before the first. */
  lastSeq(): number {
    return (this.stmt.metaGet.get('seq') as { value: number }).value;
  }

  /** Stamps a seq for a message that does not go through the queue (e.g. one sent directly). */
  takeSeq(): number {
    return this.tx(() => this.nextSeq());
  }

  getMeta(key: string): number | undefined {
    return (this.stmt.metaGet.get(key) as { value: number } | undefined)?.value;
  }

  setMeta(key: string, value: number): void {
    this.stmt.metaSet.run(key, value);
  }

  /**
   * Keeps the backlog within the quota by thinning the lowest classes: every second row of the
   * older half of the lowest-priority class goes, repeatedly, until the backlog fits. Old data ends
   * up coarse and recent data stays at full resolution, and the survivors still span the whole
   * outage, which is what a dashboard needs after a long gap.
   * Alarms and events are never dropped, even if they alone exceed the quota.
   */
  downsample(): DownsampleResult {
    const result: DownsampleResult = { dropped: 0, byKind: {} };
    if (this.bytesCache <= this.quotaBytes) return result;
    const thin = this.db.prepare(`
      DELETE FROM outbox WHERE id IN (
        SELECT id FROM (
          SELECT id, row_number() OVER (ORDER BY id) AS rn, count(*) OVER () AS n FROM outbox WHERE priority = ?
        ) WHERE rn % 2 = 0 AND rn <= (n + 1) / 2
      ) RETURNING kind, bytes`);
    for (const priority of THINNABLE_PRIORITIES) {
      while (this.bytesCache > this.quotaBytes) {
        const gone = this.tx(() => thin.all(priority) as { kind: UplinkKind; bytes: number }[]);
        if (gone.length === 0) break;
        for (const g of gone) {
          this.bytesCache -= g.bytes;
          result.byKind[g.kind] = (result.byKind[g.kind] ?? 0) + 1;
        }
        result.dropped += gone.length;
      }
    }
    return result;
  }

  backlogBytes(): number {
    return this.bytesCache;
  }

  close(): void {
    this.db.close();
  }

  private nextSeq(): number {
    return (this.stmt.bumpSeq.get() as { value: number }).value;
  }

  private tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const v = fn();
      this.db.exec('COMMIT');
      return v;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }
}
