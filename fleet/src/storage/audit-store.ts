import type { Kysely } from 'kysely';
import type { AuditRow, Database } from './schema.ts';

/** An entry as the API shows it. */
export function auditEntry(r: AuditRow) {
  return {
    at: r.at,
    actor: r.actor_name,
    actorId: r.actor_id,
    role: r.role,
    action: r.action,
    unitId: r.unit_id,
    ticketId: r.ticket_id,
    campaignId: r.campaign_id,
    release: r.release_version,
    status: r.status,
    result: r.result,
    message: r.message,
  };
}

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
    return this.#newest('unit_id', unitId, limit);
  }

  /** Newest first. */
  forTicket(ticketId: string, limit: number): Promise<AuditRow[]> {
    return this.#newest('ticket_id', ticketId, limit);
  }

  /** Newest first. */
  forCampaign(campaignId: string, limit: number): Promise<AuditRow[]> {
    return this.#newest('campaign_id', campaignId, limit);
  }

  /** Newest first. */
  forRelease(version: string, limit: number): Promise<AuditRow[]> {
    return this.#newest('release_version', version, limit);
  }

  #newest(column: 'unit_id' | 'ticket_id' | 'campaign_id' | 'release_version', value: string, limit: number): Promise<AuditRow[]> {
    return this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where(column, '=', value)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}
