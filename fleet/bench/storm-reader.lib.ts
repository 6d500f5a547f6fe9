/**
 * The alarm storm's ticket reader, in a process of its own (as the dashboard and the outside
 * systems read from their own processes): polls the fleet's tickets every 5 ms, on its own
 * connection to the fleet's SQLite file (WAL: it never waits for the writer) or PostgreSQL, and
 * notes when it first saw each unit's ticket — that is, after the transaction that wrote it
 * committed.
 *
 * IPC: ← { type: 'read', sqlite?: path, postgres?: url, prefix, units } → { type: 'ready' }, then
 * → { type: 'seen', seen: [unitId, ms][] } once it has seen `units` tickets of units named `<prefix>-…`.
 */
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

export type ReadCommand = { type: 'read'; sqlite?: string; postgres?: string; prefix: string; units: number };
export type ReadAnswer = { type: 'ready' } | { type: 'seen'; seen: [string, number][] };

const POLL_MS = 5;

async function read(cmd: ReadCommand): Promise<[string, number][]> {
  let query: () => Promise<{ unit_id: string }[]>;
  let close: () => Promise<void>;
  const like = `${cmd.prefix}-%`;
  if (cmd.postgres) {
    const c = new pg.Client({ connectionString: cmd.postgres });
    await c.connect();
    query = async () => (await c.query<{ unit_id: string }>('select unit_id from tickets where unit_id like $1', [like])).rows;
    close = () => c.end();
  } else {
    const db = new DatabaseSync(cmd.sqlite as string, { readOnly: true });
    const stmt = db.prepare('select unit_id from tickets where unit_id like ?');
    query = async () => stmt.all(like) as { unit_id: string }[];
    close = async () => db.close();
  }
  process.send?.({ type: 'ready' } satisfies ReadAnswer);
  const seen = new Map<string, number>();
  while (seen.size < cmd.units) {
    const rows = await query();
    const at = Date.now();
    for (const r of rows) if (!seen.has(r.unit_id)) seen.set(r.unit_id, at);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  await close();
  return [...seen];
}

if (process.argv.includes('--read'))
  process.once('message', (cmd: ReadCommand) => {
    read(cmd).then(
      (seen) => process.send?.({ type: 'seen', seen } satisfies ReadAnswer, () => process.disconnect()),
      (err: unknown) => {
        process.send?.({ type: 'error', message: (err as Error).message }, () => process.disconnect());
      },
    );
  });
