import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * The journal's only writer, on its own thread: a commit waits for fsync, and waiting there
 * instead of on the broker's event loop lets the broker keep reading packets meanwhile. Each
 * message is one batch and one transaction (group commit); the reply says, per row, whether
 * (unit, seq) was already stored.
 */
export interface WriteRow {
  unit: string;
  seq: number;
  kind: string;
  ts: number;
  payload: string;
}
export type WriteReply = { duplicates: boolean[] } | { error: string };

export const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  PRAGMA busy_timeout = 5000;
  CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL,
    UNIQUE (unit, seq));
  CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, id INTEGER NOT NULL);`;

if (parentPort) {
  const port = parentPort;
  const db = new DatabaseSync(workerData as string);
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT OR IGNORE INTO readings (unit, seq, kind, ts, payload) VALUES (?, ?, ?, ?, ?)');
  port.on('message', (rows: WriteRow[]) => {
    let reply: WriteReply;
    try {
      db.exec('BEGIN IMMEDIATE');
      const duplicates = rows.map((r) => Number(insert.run(r.unit, r.seq, r.kind, r.ts, r.payload).changes) === 0);
      db.exec('COMMIT');
      reply = { duplicates };
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      reply = { error: (err as Error).message };
    }
    port.postMessage(reply);
  });
  port.postMessage('ready');
}
