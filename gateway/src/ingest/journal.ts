import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { encodeRow, SCHEMA, type WriteReply } from './journal-writer.ts';

/**
 * The gateway's durable ingest journal: every accepted reading is committed here (SQLite, WAL,
 * synchronous=FULL, so a committed row survives power loss) before the unit gets its PUBACK.
 * It deduplicates on (unit, seq) — a unit resends whatever it is unsure was acknowledged — and
 * is both the embedded store when no InfluxDB is configured and the queue that feeds InfluxDB.
 *
 * Group commit: one batch is being committed by the writer thread at a time, and everything
 * appended meanwhile becomes the next batch, so one fsync covers as many readings as arrived
 * during the previous one. An idle journal still waits for the end of the event loop's turn
 * before sending: the packets of one socket read (a unit's burst, and the other sockets read in
 * the same turn) then share one commit, where sending the first alone made the rest wait for a
 * second one, which halved the QoS 1 rate of a bursting client (gateway/bench/throughput.ts).
 * Reads and the forwarder's cursor use a second connection here (WAL lets readers run beside
 * the writer).
 */
export interface JournalEntry {
  id: number;
  unit: string;
  seq: number;
  kind: string;
  ts: number;
  payload: string;
}

/** Called once the row is committed, or with the reason it was not. */
export type Stored = (err: Error | null) => void;

/**
 * What is waiting for one commit. Callbacks rather than a promise per row: every accepted
 * reading passes here, and at QoS 0 the promises and closures of the ingest path were the
 * largest share of what the broker allocated (sampling heap profile).
 */
interface Batch {
  rows: string[];
  kinds: string[];
  done: Stored[];
}
const emptyBatch = (): Batch => ({ rows: [], kinds: [], done: [] });

export class Journal {
  readonly #db: DatabaseSync;
  readonly #writer: Worker;
  readonly #onStored: (kind: string, duplicate: boolean) => void;
  #pending = emptyBatch();
  #inFlight: Batch | undefined;
  #idle: (() => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #scheduled = false;

  private constructor(db: DatabaseSync, writer: Worker, onStored: (kind: string, duplicate: boolean) => void) {
    this.#db = db;
    this.#writer = writer;
    this.#onStored = onStored;
    writer.on('message', (reply: WriteReply) => this.#settle(reply));
    // A writer that died cannot store anything: fail what waits on it and refuse from now on,
    // rather than hold PUBACKs forever (the units resend).
    writer.on('error', (err) => {
      this.#closed = true;
      const waiting = [this.#inFlight, this.#pending];
      this.#inFlight = undefined;
      this.#pending = emptyBatch();
      for (const batch of waiting) for (const done of batch?.done ?? []) done(new Error(`journal writer died: ${err.message}`));
      this.#idle?.();
    });
  }

  /** `onStored` hears, per committed row, its kind and whether (unit, seq) was there already. */
  static async open(file: string, onStored: (kind: string, duplicate: boolean) => void = () => {}): Promise<Journal> {
    await mkdir(dirname(file), { recursive: true });
    const writer = new Worker(new URL('./journal-writer.ts', import.meta.url), { workerData: file });
    const [first] = await once(writer, 'message');
    if (first !== 'ready') throw new Error(`journal writer did not start: ${String(first)}`);
    const db = new DatabaseSync(file);
    db.exec(SCHEMA);
    return new Journal(db, writer, onStored);
  }

  /** `done` is called once the reading is committed to disk (a duplicate of a stored one counts as committed). */
  append(unit: string, seq: number, kind: string, ts: number, payloadJson: string, done: Stored): void {
    if (this.#closed) {
      done(new Error('journal closed'));
      return;
    }
    const batch = this.#pending;
    batch.rows.push(encodeRow(unit, seq, kind, ts, payloadJson));
    batch.kinds.push(kind);
    batch.done.push(done);
    if (this.#inFlight || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (!this.#inFlight) this.#send();
    });
  }

  #send(): void {
    if (this.#pending.rows.length === 0) {
      this.#idle?.();
      return;
    }
    this.#inFlight = this.#pending;
    this.#pending = emptyBatch();
    this.#writer.postMessage(this.#inFlight.rows.join(''));
  }

  #settle(reply: WriteReply): void {
    const batch = this.#inFlight;
    this.#inFlight = undefined;
    if (batch) {
      const err = 'error' in reply ? new Error(`journal write failed: ${reply.error}`) : null;
      batch.done.forEach((done, i) => {
        if (!('error' in reply)) this.#onStored(batch.kinds[i] as string, reply.duplicates[i] === 1);
        done(err);
      });
    }
    this.#send();
  }

  /** Entries after a named cursor, oldest first. */
  after(cursor: string, limit: number): JournalEntry[] {
    const from = this.cursor(cursor);
    return this.#db
      .prepare('SELECT id, unit, seq, kind, ts, payload FROM readings WHERE id > ? ORDER BY id LIMIT ?')
      .all(from, limit) as unknown as JournalEntry[];
  }

  cursor(name: string): number {
    const row = this.#db.prepare('SELECT id FROM cursors WHERE name = ?').get(name) as { id: number } | undefined;
    return row?.id ?? 0;
  }

  advance(name: string, id: number): void {
    this.#db.prepare('INSERT INTO cursors (name, id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET id = excluded.id').run(name, id);
  }

  /** Readings not yet past a cursor: the ingest lag in rows. */
  behind(name: string): number {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM readings WHERE id > ?').get(this.cursor(name)) as { n: number };
    return row.n;
  }

  count(unit?: string): number {
    const row = (
      unit === undefined
        ? this.#db.prepare('SELECT COUNT(*) AS n FROM readings').get()
        : this.#db.prepare('SELECT COUNT(*) AS n FROM readings WHERE unit = ?').get(unit)
    ) as { n: number };
    return row.n;
  }

  /** Commits what was already appended, then stops the writer; the same promise for every caller. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight || this.#pending.rows.length > 0)
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
        if (!this.#inFlight) this.#send();
      });
    await this.#writer.terminate();
    this.#db.close();
  }
}
