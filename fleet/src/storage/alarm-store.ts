import type { Severity } from '@shouwang/protocol';
import { type Kysely, sql } from 'kysely';
import type { AlarmRecord, AlarmSource, AlarmState } from '../domain/alarm-engine.ts';
import type { AnyAlarmKind, Category, Priority } from '../domain/alarm-rules.ts';
import { occurrences } from './alarm-occurrences.ts';
import { insertJson, insertRows, isOneOf, JsonInserts, overwrite } from './bulk.ts';
import type { Dialect } from './open.ts';
import type { AlarmCommentRow, AlarmRow, Database } from './schema.ts';

/** Alarm episodes, their occurrences and the inbox of taken messages (SQLite and PostgreSQL alike). */
export class AlarmStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /**
   * Runs `fn` in one transaction holding the unit's lock, so two fleet instances (or two messages
   * of one unit) never decide on the same unit's episodes at once. SQLite has one writer: its
   * transactions are serial already.
   */
  inUnit<T>(unitId: string, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute(async (tx) => {
      if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${unitId}))`.execute(tx);
      return fn(tx);
    });
  }

  /**
   * Inside a transaction: holds the locks of all these units until it ends, taken in one order
   * (by lock key) so two instances locking overlapping sets wait for each other instead of deadlocking.
   */
  async lockUnits(tx: Kysely<Database>, unitIds: readonly string[]): Promise<void> {
    if (this.#dialect !== 'postgres' || unitIds.length === 0) return;
    await sql`select pg_advisory_xact_lock(k) from (select distinct hashtext(u) as k from unnest(${[...unitIds]}::text[]) as u order by k) as keys`.execute(
      tx,
    );
  }

  /** Records messages as taken; answers the keys (`unit~seq`) newly taken, not those taken before. */
  async takeMany(tx: Kysely<Database>, rows: readonly { unit_id: string; seq: number; received_at: number }[]): Promise<Set<string>> {
    const taken = new Set<string>();
    if (this.#dialect === 'postgres' && rows.length > 0) {
      const r = await insertJson(tx, 'alarm_inbox', rows, sql`on conflict (unit_id, seq) do nothing returning unit_id, seq`);
      for (const k of r.rows) taken.add(`${k.unit_id}~${Number(k.seq)}`);
      return taken;
    }
    for (const r of await insertRows(tx, 'alarm_inbox', rows, 'on conflict (unit_id, seq) do nothing returning unit_id, seq'))
      for (const k of r.rows) taken.add(`${k.unit_id}~${Number(k.seq)}`);
    return taken;
  }

  /** The episodes of these fingerprints, by fingerprint. */
  async byFingerprints(tx: Kysely<Database>, fingerprints: readonly string[]): Promise<Map<string, AlarmRecord>> {
    const out = new Map<string, AlarmRecord>();
    if (fingerprints.length === 0) return out;
    for (const r of await this.#ofFingerprints(tx, fingerprints).execute()) out.set(r.fingerprint, toRecord(r));
    return out;
  }

  #ofFingerprints(tx: Kysely<Database>, fingerprints: readonly string[]) {
    return tx
      .selectFrom(occurrences(tx))
      .innerJoin('alarms as a', 'a.episode', 'o.episode')
      .selectAll('a')
      .select(sql<number>`0`.as('rank'))
      .select('o.fingerprint')
      .where(isOneOf(this.#dialect === 'postgres', 'o.fingerprint', fingerprints));
  }

  /**
   * What a loop batch starts from, in one query: for these units every episode not cleared and the
   * latest episode of each kind (cleared or not), and the episodes of these fingerprints.
   */
  async startOfBatch(
    tx: Kysely<Database>,
    unitIds: readonly string[],
    fingerprints: readonly string[],
  ): Promise<{ context: AlarmRecord[]; known: Map<string, AlarmRecord> }> {
    const latest = tx
      .selectFrom('alarms')
      .selectAll()
      .select(sql<number>`row_number() over (partition by unit_id, kind order by raised_at desc)`.as('rank'))
      .where(isOneOf(this.#dialect === 'postgres', 'unit_id', unitIds))
      .as('l');
    const rows = await tx
      .selectFrom(latest)
      .selectAll()
      .select(sql<string | null>`cast(null as text)`.as('fingerprint'))
      .where((eb) => eb.or([eb('rank', '=', 1), eb('state', '!=', 'cleared')]))
      .unionAll(this.#ofFingerprints(tx, fingerprints))
      .execute();
    const context: AlarmRecord[] = [];
    const known = new Map<string, AlarmRecord>();
    for (const r of rows)
      if (r.fingerprint === null) context.push(toRecord(r));
      else known.set(r.fingerprint, toRecord(r));
    return { context, known };
  }

  /**
   * Episodes as they now stand, with their district, and new fingerprints of them. Those the batch
   * `opened` go in by plain insert: the batch holds their unit's lock and found their id nowhere, so
   * a row already there is a bug, and the key violation fails the batch (the intake retries it,
   * logged) instead of an upsert overwriting that row silently. It also spares PostgreSQL the
   * speculative insertion an upsert makes of each row. On PostgreSQL, given `into`, they are
   * gathered there to go with the batch's other writes (see `JsonInserts`).
   */
  async saveMany(
    tx: Kysely<Database>,
    records: readonly { record: AlarmRecord; district: string | null; opened: boolean }[],
    occurrences: readonly { fingerprint: string; episode: string }[],
    into?: JsonInserts,
  ): Promise<void> {
    const row = ({ record, district }: { record: AlarmRecord; district: string | null }) => ({ ...toRow(record), district });
    const inserts = records.filter((r) => r.opened).map(row);
    const upserts = records.filter((r) => !r.opened).map(row);
    // Every column but the district, which stays where the episode was first routed.
    const set = Object.keys(upserts[0] ?? {}).filter((k) => k !== 'district');
    if (this.#dialect === 'postgres') {
      const w = into ?? new JsonInserts();
      w.add('alarms', inserts);
      w.add('alarms', upserts, sql.raw(overwrite(['episode'], set)));
      w.add('alarm_occurrences', occurrences, sql`on conflict (fingerprint) do nothing`);
      if (!into) await w.execute(tx);
      return;
    }
    await insertRows(tx, 'alarms', inserts);
    await insertRows(tx, 'alarms', upserts, overwrite(['episode'], set));
    await insertRows(tx, 'alarm_occurrences', occurrences, 'on conflict (fingerprint) do nothing');
  }

  async get(episode: string): Promise<AlarmRecord | undefined> {
    const row = await this.#db.selectFrom('alarms').selectAll().where('episode', '=', episode).executeTakeFirst();
    return row && toRecord(row);
  }

  /** For the console: not cleared (or those in `state`), newest first by event time. */
  async list(filter: {
    state?: AlarmState;
    unitId?: string;
    district?: string;
    limit: number;
  }): Promise<(AlarmRecord & { district: string | null })[]> {
    let q = this.#db.selectFrom('alarms').selectAll();
    q = filter.state ? q.where('state', '=', filter.state) : q.where('state', '!=', 'cleared');
    if (filter.unitId) q = q.where('unit_id', '=', filter.unitId);
    if (filter.district) q = q.where('district', '=', filter.district);
    const rows = await q.orderBy('raised_at', 'desc').limit(filter.limit).execute();
    return rows.map((r) => ({ ...toRecord(r), district: r.district }));
  }

  /** Episodes that arrived in a window, for flood detection. */
  arrivals(from: number, to: number): Promise<{ received_at: number; priority: string; district: string | null }[]> {
    return this.#db
      .selectFrom('alarms')
      .select(['received_at', 'priority', 'district'])
      .where('received_at', '>=', from)
      .where('received_at', '<=', to)
      .orderBy('received_at')
      .execute();
  }

  /** A person's change to an episode, only if it is in one of `from` (else false: a 409). */
  async update(tx: Kysely<Database>, episode: string, from: readonly AlarmState[], patch: Partial<AlarmRow>): Promise<boolean> {
    const r = await tx.updateTable('alarms').set(patch).where('episode', '=', episode).where('state', 'in', from).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Active fleet-side episodes, to know at start-up which conditions are already raised. */
  async openFleetSide(): Promise<AlarmRecord[]> {
    const rows = await this.#db.selectFrom('alarms').selectAll().where('source', '=', 'fleet').where('state', '!=', 'cleared').execute();
    return rows.map(toRecord);
  }

  async comment(row: AlarmCommentRow): Promise<void> {
    await this.#db.insertInto('alarm_comments').values(row).execute();
  }

  comments(episode: string): Promise<AlarmCommentRow[]> {
    return this.#db.selectFrom('alarm_comments').selectAll().where('episode', '=', episode).orderBy('at').execute();
  }
}

function toRow(r: AlarmRecord): Omit<AlarmRow, 'district'> {
  return {
    episode: r.episode,
    unit_id: r.unitId,
    kind: r.kind,
    source: r.source,
    severity: r.severity,
    priority: r.priority,
    category: r.category,
    state: r.state,
    raised_at: r.raisedAt,
    received_at: r.receivedAt,
    cleared_at: r.clearedAt,
    updated_at: r.updatedAt,
    late: r.late ? 1 : 0,
    repeats: r.repeats,
    chatter: r.chatter,
    inhibited_by: r.inhibitedBy,
    acked_by: r.ackedBy,
    acked_at: r.ackedAt,
    shelved_until: r.shelvedUntil,
    shelved_by: r.shelvedBy,
    shelve_reason: r.shelveReason,
    lat: r.lat,
    lon: r.lon,
    value: r.value,
    message: r.message,
    ticket_id: r.ticketId,
  };
}

export function toRecord(r: AlarmRow): AlarmRecord {
  return {
    episode: r.episode,
    unitId: r.unit_id,
    kind: r.kind as AnyAlarmKind,
    source: r.source as AlarmSource,
    severity: r.severity as Severity,
    priority: r.priority as Priority,
    category: r.category as Category,
    state: r.state as AlarmState,
    raisedAt: r.raised_at,
    receivedAt: r.received_at,
    clearedAt: r.cleared_at,
    updatedAt: r.updated_at,
    late: r.late === 1,
    repeats: r.repeats,
    chatter: r.chatter,
    inhibitedBy: r.inhibited_by,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
    shelvedUntil: r.shelved_until,
    shelvedBy: r.shelved_by,
    shelveReason: r.shelve_reason,
    lat: r.lat,
    lon: r.lon,
    value: r.value,
    message: r.message,
    ticketId: r.ticket_id,
  };
}
