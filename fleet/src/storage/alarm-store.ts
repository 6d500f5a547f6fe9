import type { Severity } from '@shouwang/protocol';
import { type Kysely, sql } from 'kysely';
import type { AlarmRecord, AlarmSource, AlarmState } from '../domain/alarm-engine.ts';
import type { AnyAlarmKind, Category, Priority } from '../domain/alarm-rules.ts';
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

  /** Records a message as taken; false when it was taken before (a redelivery, or the other instance). */
  async take(tx: Kysely<Database>, unitId: string, seq: number, at: number): Promise<boolean> {
    const r = await tx
      .insertInto('alarm_inbox')
      .values({ unit_id: unitId, seq, received_at: at })
      .onConflict((oc) => oc.columns(['unit_id', 'seq']).doNothing())
      .executeTakeFirst();
    return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async byFingerprint(tx: Kysely<Database>, fingerprint: string): Promise<AlarmRecord | undefined> {
    const row = await tx
      .selectFrom('alarm_occurrences as o')
      .innerJoin('alarms as a', 'a.episode', 'o.episode')
      .selectAll('a')
      .where('o.fingerprint', '=', fingerprint)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async lastOfKind(tx: Kysely<Database>, unitId: string, kind: string): Promise<AlarmRecord | undefined> {
    const row = await tx
      .selectFrom('alarms')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('kind', '=', kind)
      .orderBy('raised_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toRecord(row);
  }

  async openOfUnit(tx: Kysely<Database>, unitId: string): Promise<AlarmRecord[]> {
    const rows = await tx.selectFrom('alarms').selectAll().where('unit_id', '=', unitId).where('state', '!=', 'cleared').execute();
    return rows.map(toRecord);
  }

  async save(tx: Kysely<Database>, r: AlarmRecord, fingerprint: string | null, district: string | null): Promise<void> {
    const row = { ...toRow(r), district };
    await tx
      .insertInto('alarms')
      .values(row)
      .onConflict((oc) => oc.column('episode').doUpdateSet({ ...row, district: undefined }))
      .execute();
    if (fingerprint)
      await tx
        .insertInto('alarm_occurrences')
        .values({ fingerprint, episode: r.episode })
        .onConflict((oc) => oc.column('fingerprint').doNothing())
        .execute();
  }

  async inhibit(tx: Kysely<Database>, episodes: readonly string[], by: string): Promise<void> {
    if (episodes.length === 0) return;
    await tx.updateTable('alarms').set({ inhibited_by: by }).where('episode', 'in', episodes).execute();
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

function toRecord(r: AlarmRow): AlarmRecord {
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
