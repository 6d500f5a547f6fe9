import { sql } from 'kysely';
import type { startTestFleet } from './helpers.ts';

/**
 * Holds the fleet's alarm batches at the database until released, as another writer would: on
 * SQLite a transaction holding its one connection (Kysely queues the fleet's behind it, the event
 * loop stays free), on PostgreSQL one holding the inbox's lock. Release it before the fleet closes
 * (in the test, in a `finally`): a batch still waiting keeps the fleet's close waiting too.
 */
export async function holdWrites(fleet: Awaited<ReturnType<typeof startTestFleet>>, postgres: boolean): Promise<() => Promise<void>> {
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let holding = () => {};
  const held = new Promise<void>((r) => {
    holding = r;
  });
  const done = fleet.loop.ticketStore.db.transaction().execute(async (tx) => {
    if (postgres) await sql`lock table alarm_inbox in exclusive mode`.execute(tx);
    holding();
    await gate;
  });
  await Promise.race([held, done]);
  return async () => {
    release();
    await done;
  };
}
