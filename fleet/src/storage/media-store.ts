import type { ByteRange, EvidenceEntry, MediaKind } from '@shouwang/protocol';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { insertAll, isOneOf, onPostgres, overwrite } from './bulk.ts';
import type { Database, EvidenceTable, MediaTable } from './schema.ts';

/** A recording as the media intake keeps it. */
export interface MediaRecord {
  unitId: string;
  recording: string;
  kind: MediaKind;
  type: string | null;
  size: number;
  sha256: string;
  have: ByteRange[];
  /** `abandoned`: a partial upload retention gave up; kept (no bytes) so the unit's resume is answered. */
  state: 'partial' | 'complete' | 'abandoned';
  alarmId: string | null;
  startTs: number | null;
  durationMs: number | null;
  location: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
}

export interface EvidenceRecord {
  unitId: string;
  alarmId: string;
  raisedHead: string | null;
  head: string | null;
  entries: EvidenceEntry[] | null;
  chain: EvidenceTable['chain'];
  updatedAt: number;
}

/** One alarm's evidence record among a batch's. */
export const evidenceKey = (unitId: string, alarmId: string): string => `${unitId}\n${alarmId}`;

/** Live feeds' segments, every other recording, or both. */
export type KindFilter = 'live' | 'recorded' | 'any';

/** Media rows and evidence chains, SQLite and PostgreSQL alike. */
export class MediaStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(unitId: string, recording: string): Promise<MediaRecord | undefined> {
    const row = await this.#db
      .selectFrom('media')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('recording', '=', recording)
      .executeTakeFirst();
    return row && toMedia(row);
  }

  async create(m: MediaRecord): Promise<void> {
    await this.#db
      .insertInto('media')
      .values(fromMedia(m))
      .onConflict((oc) => oc.columns(['unit_id', 'recording']).doNothing())
      .execute();
  }

  async update(m: MediaRecord): Promise<void> {
    const { unit_id, recording, ...rest } = fromMedia(m);
    await this.#db.updateTable('media').set(rest).where('unit_id', '=', unit_id).where('recording', '=', recording).execute();
  }

  /** Bytes a unit has stored and on the way (its quota counts both). */
  async unitBytes(unitId: string): Promise<number> {
    const r = await this.#db
      .selectFrom('media')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
      .where('unit_id', '=', unitId)
      .where('state', '!=', 'abandoned')
      .executeTakeFirst();
    return Number(r?.bytes ?? 0);
  }

  async unfinished(unitId: string): Promise<MediaRecord[]> {
    const rows = await this.#db
      .selectFrom('media')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('state', 'in', ['partial', 'abandoned'])
      .execute();
    return rows.map(toMedia);
  }

  /** A unit's recordings, newest first; or those taken for one alarm. */
  async list(unitId: string, o: { alarmId?: string; limit?: number } = {}): Promise<MediaRecord[]> {
    let q = this.#db.selectFrom('media').selectAll().where('unit_id', '=', unitId);
    if (o.alarmId !== undefined) q = q.where('alarm_id', '=', o.alarmId);
    const rows = await q
      .orderBy('created_at', 'desc')
      .limit(o.limit ?? 200)
      .execute();
    return rows.map(toMedia);
  }

  /** A live feed's newest stored segments (`<feed>-<n>`), for its playlist. */
  async liveSegments(unitId: string, feed: string, limit: number): Promise<MediaRecord[]> {
    const rows = await this.#db
      .selectFrom('media')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('kind', '=', 'live')
      .where('state', '=', 'complete')
      .where('recording', 'like', `${feed}-%`)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toMedia);
  }

  /** Stored recordings of `kind`, longest stored first, one page (retention walks them oldest first). */
  async oldestStored(limit: number, offset: number, kind: KindFilter): Promise<MediaRecord[]> {
    let q = this.#db.selectFrom('media').selectAll().where('state', '=', 'complete');
    if (kind === 'live') q = q.where('kind', '=', 'live');
    else if (kind === 'recorded') q = q.where('kind', '<>', 'live');
    const rows = await q.orderBy('completed_at').orderBy('unit_id').orderBy('recording').limit(limit).offset(offset).execute();
    return rows.map(toMedia);
  }

  /** Bytes of every stored recording (what the store's quota counts). */
  async storedBytes(): Promise<number> {
    const r = await this.#db
      .selectFrom('media')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'))
      .where('state', '=', 'complete')
      .executeTakeFirst();
    return Number(r?.bytes ?? 0);
  }

  /** Partial recordings no chunk has reached since `before`. */
  async idlePartials(before: number): Promise<MediaRecord[]> {
    const rows = await this.#db.selectFrom('media').selectAll().where('state', '=', 'partial').where('updated_at', '<', before).execute();
    return rows.map(toMedia);
  }

  /** Abandoned uploads given up before `before`. */
  async abandonedBefore(before: number): Promise<MediaRecord[]> {
    const rows = await this.#db.selectFrom('media').selectAll().where('state', '=', 'abandoned').where('updated_at', '<', before).execute();
    return rows.map(toMedia);
  }

  /** Marks a partial upload abandoned (none of it held) if it is still as `m` was read; true when it was. */
  async abandon(m: MediaRecord, now: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('media')
      .set({ state: 'abandoned', have: '[]', updated_at: now })
      .where((eb) => asRead(eb, m))
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Deletes a recording's row if it is still as `m` was read (a chunk that came meanwhile keeps it); true when it went. */
  async remove(m: MediaRecord): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('media')
      .where((eb) => asRead(eb, m))
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** The evidence manifests of these units' alarms. */
  async evidenceOf(unitIds: readonly string[]): Promise<EvidenceRecord[]> {
    const out: EvidenceRecord[] = [];
    for (let i = 0; i < unitIds.length; i += 500) {
      const rows = await this.#db
        .selectFrom('evidence')
        .selectAll()
        .where('unit_id', 'in', unitIds.slice(i, i + 500))
        .execute();
      out.push(...rows.map(toEvidence));
    }
    return out;
  }

  async getEvidence(unitId: string, alarmId: string): Promise<EvidenceRecord | undefined> {
    const row = await this.#db
      .selectFrom('evidence')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('alarm_id', '=', alarmId)
      .executeTakeFirst();
    return row && toEvidence(row);
  }

  /** These alarms' evidence records, by `evidenceKey`: one query for a whole alarm batch. */
  async evidenceFor(alarms: readonly { unitId: string; alarmId: string }[]): Promise<Map<string, EvidenceRecord>> {
    const out = new Map<string, EvidenceRecord>();
    if (alarms.length === 0) return out;
    const wanted = new Set(alarms.map((a) => evidenceKey(a.unitId, a.alarmId)));
    const postgres = onPostgres(this.#db);
    const rows = await this.#db
      .selectFrom('evidence')
      .selectAll()
      .where(isOneOf(postgres, 'unit_id', [...new Set(alarms.map((a) => a.unitId))]))
      .where(isOneOf(postgres, 'alarm_id', [...new Set(alarms.map((a) => a.alarmId))]))
      .execute();
    for (const r of rows) {
      const k = evidenceKey(r.unit_id, r.alarm_id);
      if (wanted.has(k)) out.set(k, toEvidence(r));
    }
    return out;
  }

  /** Writes these records over what is stored, in one statement however many. */
  async putEvidence(records: readonly EvidenceRecord[]): Promise<void> {
    const rows = records.map((e) => ({
      unit_id: e.unitId,
      alarm_id: e.alarmId,
      raised_head: e.raisedHead,
      head: e.head,
      entries: e.entries && JSON.stringify(e.entries),
      chain: e.chain,
      updated_at: e.updatedAt,
    }));
    const set = ['raised_head', 'head', 'entries', 'chain', 'updated_at'];
    await insertAll(this.#db, 'evidence', rows, overwrite(['unit_id', 'alarm_id'], set));
  }
}

function toMedia(r: Selectable<MediaTable>): MediaRecord {
  return {
    unitId: r.unit_id,
    recording: r.recording,
    kind: r.kind as MediaKind,
    type: r.type,
    size: Number(r.size),
    sha256: r.sha256,
    have: JSON.parse(r.have) as ByteRange[],
    state: r.state,
    alarmId: r.alarm_id,
    startTs: r.start_ts === null ? null : Number(r.start_ts),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    location: r.location,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  };
}

function fromMedia(m: MediaRecord): MediaTable {
  return {
    unit_id: m.unitId,
    recording: m.recording,
    kind: m.kind,
    type: m.type,
    size: m.size,
    sha256: m.sha256,
    have: JSON.stringify(m.have),
    state: m.state,
    alarm_id: m.alarmId,
    start_ts: m.startTs,
    duration_ms: m.durationMs,
    location: m.location,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    completed_at: m.completedAt,
  };
}

function toEvidence(r: Selectable<EvidenceTable>): EvidenceRecord {
  return {
    unitId: r.unit_id,
    alarmId: r.alarm_id,
    raisedHead: r.raised_head,
    head: r.head,
    entries: r.entries === null ? null : (JSON.parse(r.entries) as EvidenceEntry[]),
    chain: r.chain,
    updatedAt: Number(r.updated_at),
  };
}

/** The recording's row only while it is as `m` was read: a chunk that came meanwhile changed it. */
function asRead(eb: ExpressionBuilder<Database, 'media'>, m: MediaRecord) {
  return eb.and([
    eb('unit_id', '=', m.unitId),
    eb('recording', '=', m.recording),
    eb('state', '=', m.state),
    eb('updated_at', '=', m.updatedAt),
  ]);
}
