import type { Kysely } from 'kysely';
import { fingerprint } from '../domain/alarm-engine.ts';
import type { Database } from './schema.ts';

/** One alarm a unit raised, as its episode (and so its ticket) folded it in. */
export interface AlarmOccurrence {
  /** The unit's own alarm id (protocol Alarm.id): what its evidence and media are filed under. */
  alarmId: string;
  episode: string;
  /** Event time of the episode's first raise for that occurrence; null for the occurrences folded in after it (their time is in their evidence). */
  raisedAt: number | null;
}

/**
 * Every occurrence as (fingerprint, episode): the rows of those folded into an episode after its
 * first, and each episode's first, which is the episode's id (no row of its own: one row fewer
 * per alarm a storm writes).
 */
export function occurrences(db: Kysely<Database>) {
  return db
    .selectFrom('alarm_occurrences')
    .select(['fingerprint', 'episode'])
    .unionAll(db.selectFrom('alarms').select(['episode as fingerprint', 'episode']))
    .as('o');
}

/**
 * The units' alarms behind episodes — those merged into a ticket, or one episode's — newest
 * episode first. Fleet rules' alarms (a unit gone offline) are left out: no unit raised them and
 * no evidence is filed under them.
 */
export async function alarmOccurrences(db: Kysely<Database>, of: { ticketId: string } | { episode: string }): Promise<AlarmOccurrence[]> {
  let q = db
    .selectFrom('alarms as a')
    .innerJoin(occurrences(db), 'o.episode', 'a.episode')
    .select(['a.episode', 'a.unit_id', 'a.kind', 'a.raised_at', 'o.fingerprint'])
    .where('a.source', '<>', 'fleet');
  q = 'ticketId' in of ? q.where('a.ticket_id', '=', of.ticketId) : q.where('a.episode', '=', of.episode);
  const rows = await q.execute();
  // Within an episode its first occurrence (the episode's id) is the oldest: last.
  const first = (r: (typeof rows)[number]) => (r.fingerprint === r.episode ? 1 : 0);
  rows.sort(
    (x, y) => Number(y.raised_at) - Number(x.raised_at) || (x.episode < y.episode ? -1 : x.episode > y.episode ? 1 : first(x) - first(y)),
  );
  return rows.map((r) => ({
    alarmId: unitAlarmId(r),
    episode: r.episode,
    raisedAt: r.fingerprint === r.episode ? Number(r.raised_at) : null,
  }));
}

/**
 * The units' alarms whose evidence must be kept: those of an episode not cleared, or of one whose
 * ticket is not closed. By unit, the unit's alarm ids.
 */
export async function heldAlarms(db: Kysely<Database>): Promise<Map<string, Set<string>>> {
  const rows = await db
    .selectFrom('alarms as a')
    .innerJoin(occurrences(db), 'o.episode', 'a.episode')
    .leftJoin('tickets as t', 't.id', 'a.ticket_id')
    .select(['a.unit_id', 'a.kind', 'o.fingerprint'])
    .where('a.source', '<>', 'fleet')
    .where((eb) => eb.or([eb('a.state', '<>', 'cleared'), eb.and([eb('t.id', 'is not', null), eb('t.state', '<>', 'closed')])]))
    .execute();
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    const ids = out.get(r.unit_id) ?? new Set<string>();
    out.set(r.unit_id, ids);
    ids.add(unitAlarmId(r));
  }
  return out;
}

/** The fingerprint is built from the episode's unit and kind (domain/alarm-engine.ts): what follows them is the unit's alarm id. */
function unitAlarmId(r: { unit_id: string; kind: string; fingerprint: string }): string {
  return r.fingerprint.slice(fingerprint(r.unit_id, r.kind, '').length);
}
