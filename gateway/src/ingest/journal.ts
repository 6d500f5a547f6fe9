import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/**
 * The gateway's durable ingest journal: every accepted reading is committed here (SQLite, WAL,
 * synchronous=FULL, so a committed row survives power loss) before the unit gets its PUBACK.
 * It deduplicates on (unit, seq) — a unit resends whatever it is unsure was acknowledged — and
 * is both the embedded store when no InfluxDB is configured and the queue that feeds InfluxDB.
 *
 * Appends from one event-loop turn share one transaction (group commit): one fsync for many
 * messages, which is what keeps PUBACK-after-fsync affordable under load.
 */
export interface JournalEntry {
  id: number;
  unit: string;
  seq: number;
  kind: string;
  ts: number;
  payload: string;
}

interface Pending {
  unit: string;
  seq: number;
  kind: string;
  ts: number;
  payload: string;
  done: (err?: Error, duplicate?: boolean) => void;
}

export class Journal {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #pending: Pending[] = [];
  #scheduled = false;
  #closed = false;
  duplicates = 0;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS readings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        unit TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL,
        UNIQUE (unit, seq));
      CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, id INTEGER NOT NULL);`);
    this.#insert = this.#db.prepare('INSERT OR IGNORE INTO readings (unit, seq, kind, ts, payload) VALUES (?, ?, ?, ?, ?)');
  }

  /** Resolves once the reading is committed to disk; `duplicate` when (unit, seq) was already there. */
  append(unit: string, seq: number, kind: string, ts: number, payload: unknown): Promise<{ duplicate: boolean }> {
    if (this.#closed) return Promise.reject(new Error('journal closed'));
    return new Promise((resolve, reject) => {
      this.#pending.push({
        unit,
        seq,
        kind,
        ts,
        payload: JSON.stringify(payload),
        done: (err, duplicate) => (err ? reject(err) : resolve({ duplicate: duplicate === true })),
      });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    const results: boolean[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const p of batch) results.push(Number(this.#insert.run(p.unit, p.seq, p.kind, p.ts, p.payload).changes) === 0);
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const p of batch) p.done(err as Error);
      return;
    }
    batch.forEach((p, i) => {
      if (results[i]) this.duplicates++;
      p.done(undefined, results[i]);
    });
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

  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#db.close();
  }
}
