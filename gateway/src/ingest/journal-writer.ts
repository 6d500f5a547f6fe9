import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * A batch crosses to this thread as one string: cloning one string for postMessage is a copy,
 * where cloning an array of row objects walked every object on the broker's thread (5 % of its
 * CPU at QoS 0, gateway/bench/throughput.ts). Each field ends in NUL, which no field contains:
 * unit ids and kinds are [a-z0-9-], seq and ts are integers, and a JSON text has no raw control
 * character (JSON.parse refuses one; JSON.stringify escapes them). The reply flags, per row,
 * whether (unit, seq) was already stored.
 */
export function encodeRow(unit: string, seq: number, kind: string, ts: number, payloadJson: string): string {
  return `${unit}\0${seq}\0${kind}\0${ts}\0${payloadJson}\0`;
}
export type WriteReply = { duplicates: Uint8Array } | { error: string };

export const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = FULL;
  PRAGMA busy_timeout = 5000;
  CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL, payload TEXT NOT NULL,
    UNIQUE (unit, seq));
  CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, id INTEGER NOT NULL);`;

/*
 * The journal's only writer, on its own thread: a commit waits for fsync, and waiting there
 * instead of on the broker's event loop lets the broker keep reading packets meanwhile. Each
 * message is one batch and one transaction (group commit).
 */
if (parentPort) {
  const port = parentPort;
  const db = new DatabaseSync(workerData as string);
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT OR IGNORE INTO readings (unit, seq, kind, ts, payload) VALUES (?, ?, ?, ?, ?)');
  port.on('message', (batch: string) => {
    let reply: WriteReply;
    try {
      const f = batch.split('\0');
      const duplicates = new Uint8Array(Math.floor(f.length / 5));
      db.exec('BEGIN IMMEDIATE');
      for (let row = 0, i = 0; row < duplicates.length; row++, i += 5) {
        const { changes } = insert.run(f[i] as string, Number(f[i + 1]), f[i + 2] as string, Number(f[i + 3]), f[i + 4] as string);
        duplicates[row] = Number(changes) === 0 ? 1 : 0;
      }
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
