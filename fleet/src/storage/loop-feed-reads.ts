import type { Kysely } from 'kysely';
import type { AlarmRecord } from '../domain/alarm-engine.ts';
import { toRecord } from './alarm-store.ts';
import { isOneOf, onPostgres } from './bulk.ts';
import type { Database, TicketRow } from './schema.ts';

/** Episodes by id, cleared ones included (the console drops those), each with its district. */
export async function episodesByIds(db: Kysely<Database>, ids: readonly string[]): Promise<(AlarmRecord & { district: string | null })[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('alarms')
    .selectAll()
    .where(isOneOf(onPostgres(db), 'episode', ids))
    .execute();
  return rows.map((r) => ({ ...toRecord(r), district: r.district }));
}

export function ticketsByIds(db: Kysely<Database>, ids: readonly string[]): Promise<TicketRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('tickets')
    .selectAll()
    .where(isOneOf(onPostgres(db), 'id', ids))
    .execute();
}
