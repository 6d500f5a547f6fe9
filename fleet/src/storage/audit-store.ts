import type { Kysely } from 'kysely';
import type { AuditRow, Database } from './schema.ts';

/** The audit log's queries, apart from FleetStore: one aggregate per module. */
export class AuditStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async append(row: AuditRow): Promise<void> {
    await this.#db.insertInto('audit_log').values(row).execute();
  }

  /** Newest first. */
  forUnit(unitId: string, limit: number): Promise<AuditRow[]> {
    return this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where('unit_id', '=', unitId)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
