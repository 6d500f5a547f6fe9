/**
 * The alarm storm's ticket reader, in a process of its own (as the dashboard and the outside
 * systems read from their own processes), on its own connection to the fleet's SQLite file (WAL:
 * it never waits for the writer) or PostgreSQL. It answers, for each unit, when its ticket
 * committed:
 *
 * - `poll`: when this reader first saw it, polling every 5 ms — after its transaction committed,
 *   within the poll's period. Each poll is a query on the same cores the storm runs on.
 * - `commit`: PostgreSQL's own commit timestamp of the transaction that wrote it
 *   (`track_commit_timestamp` on the server), read once all tickets are there; until then the
 *   reader only counts them every 25 ms, so it takes next to nothing from the storm it measures.
 *
 * IPC: ← { type: 'read', sqlite?: path, postgres?: url, prefix, units, how } → { type: 'ready' },
 * then → { type: 'seen', seen: [unitId, ms][] } once all `units` tickets of units named `<prefix>-…`
 * are there. One reader serves several storms: a dashboard that has been running.
 */
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';

export type ReadCommand = {
  type: 'read';
  sqlite?: string;
  postgres?: string;
  prefix: string;
  units: number;
  how: 'poll' | 'commit';
};
export type ReadAnswer = { type: 'ready' } | { type: 'seen'; seen: [string, number][] };

const POLL_MS = 5;
const COUNT_MS = 25;

interface Reader {
  units(like: string): Promise<{ unit_id: string }[]>;
  count(like: string): Promise<number>;
  /** Each ticket's commit time, in ms since the epoch (PostgreSQL only). */
  committed(like: string): Promise<{ unit_id: string; at: number }[]>;
  close(): Promise<void>;
}

async function open(cmd: ReadCommand): Promise<Reader> {
  if (cmd.postgres) {
    const c = new pg.Client({ connectionString: cmd.postgres });
    await c.connect();
    return {
      units: async (like) => (await c.query<{ unit_id: string }>('select unit_id from tickets where unit_id like $1', [like])).rows,
      count: async (like) =>
        Number((await c.query<{ n: string }>('select count(*) as n from tickets where unit_id like $1', [like])).rows[0]?.n),
      committed: async (like) =>
        (
          await c.query<{ unit_id: string; at: string }>(
            'select unit_id, extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000 as at from tickets where unit_id like $1',
            [like],
          )
        ).rows.map((r) => ({ unit_id: r.unit_id, at: Number(r.at) })),
      close: () => c.end(),
    };
  }
  const db = new DatabaseSync(cmd.sqlite as string, { readOnly: true });
  const units = db.prepare('select unit_id from tickets where unit_id like ?');
  const count = db.prepare('select count(*) as n from tickets where unit_id like ?');
  return {
    units: async (like) => units.all(like) as { unit_id: string }[],
    count: async (like) => Number((count.get(like) as { n: number }).n),
    committed: () => Promise.reject(new Error('SQLite keeps no commit timestamps')),
    close: async () => db.close(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function read(reader: Reader, cmd: ReadCommand): Promise<[string, number][]> {
  const like = `${cmd.prefix}-%`;
  process.send?.({ type: 'ready' } satisfies ReadAnswer);
  if (cmd.how === 'commit') {
    while ((await reader.count(like)) < cmd.units) await sleep(COUNT_MS);
    return (await reader.committed(like)).map((r) => [r.unit_id, r.at]);
  }
  const seen = new Map<string, number>();
  while (seen.size < cmd.units) {
    const rows = await reader.units(like);
    const at = Date.now();
    for (const r of rows) if (!seen.has(r.unit_id)) seen.set(r.unit_id, at);
    await sleep(POLL_MS);
  }
  return [...seen];
}

if (process.argv.includes('--read')) {
  let reader: Promise<Reader> | null = null;
  process.on('message', (cmd: ReadCommand) => {
    reader ??= open(cmd);
    reader
      .then((r) => read(r, cmd))
      .then(
        (seen) => process.send?.({ type: 'seen', seen } satisfies ReadAnswer),
        (err: unknown) => process.send?.({ type: 'error', message: (err as Error).message }),
      );
  });
  process.on('disconnect', () => {
    reader?.then((r) => r.close()).catch(() => {});
  });
}
