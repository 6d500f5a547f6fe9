import { type Kysely, sql } from 'kysely';
import { insertAll, overwrite } from './bulk.ts';
import type { CommissioningRow, Database, LocationRow, NewUnitRow, PowerRow, TokenRow, UnitRow, UnitStateRow } from './schema.ts';

export type UnitPatch = Partial<Omit<UnitRow, 'id' | 'created_at'>>;

/**
 * Every query the fleet makes, in one place, written once for SQLite and PostgreSQL alike
 * (the storage test suite runs against both).
 */
export class FleetStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  close(): Promise<void> {
    return this.#db.destroy();
  }

  /** One round trip to the database (health): rejects while it cannot be reached. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.#db);
  }

  // Registry

  async insertUnit(row: NewUnitRow): Promise<void> {
    await this.#db.insertInto('units').values(row).execute();
  }

  getUnit(id: string): Promise<UnitRow | undefined> {
    return this.#db.selectFrom('units').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listUnits(): Promise<UnitRow[]> {
    return this.#db.selectFrom('units').selectAll().orderBy('id').execute();
  }

  async updateUnit(id: string, patch: UnitPatch): Promise<boolean> {
    const r = await this.#db.updateTable('units').set(patch).where('id', '=', id).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  findUnitByClaimHash(hash: string): Promise<UnitRow | undefined> {
    return this.#db.selectFrom('units').selectAll().where('claim_code_hash', '=', hash).executeTakeFirst();
  }

  /** Claims atomically: only one of two technicians racing with the same code wins. */
  async claimUnit(id: string, claimHash: string, patch: UnitPatch): Promise<boolean> {
    const r = await this.#db
      .updateTable('units')
      .set({ ...patch, claim_code_hash: null, claim_expires_at: null })
      .where('id', '=', id)
      .where('claim_code_hash', '=', claimHash)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  // Live state (write-behind) and history

  /**
   * A flush's unit states, each over the one stored. Through `insertAll`, not Kysely's `values()`,
   * which builds a node per value: a storm's flush is 1,000 rows, on the event loop deciding it.
   */
  async saveStates(rows: readonly UnitStateRow[]): Promise<void> {
    if (rows.length === 0) return;
    const set = ['presence', 'power', 'location', 'link', 'running', 'last_seen', 'deployment_lat', 'deployment_lon', 'updated_at'];
    await this.#db.transaction().execute((tx) => insertAll(tx, 'unit_state', rows, overwrite(['id'], set)));
  }

  loadStates(): Promise<UnitStateRow[]> {
    return this.#db.selectFrom('unit_state').selectAll().orderBy('id').execute();
  }

  /** Written at event time; a reading already stored (same unit and ts) is kept, not duplicated. */
  async appendPower(rows: readonly PowerRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db.transaction().execute((tx) => insertAll(tx, 'power_history', rows, 'on conflict (unit_id, ts) do nothing'));
  }

  powerHistory(unitId: string, from: number, to: number, limit: number): Promise<PowerRow[]> {
    return this.#db
      .selectFrom('power_history')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .orderBy('ts')
      .limit(limit)
      .execute();
  }

  /** Positions at event time, as power: a fix re-sent after an outage lands once. */
  async appendLocations(rows: readonly LocationRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#db.transaction().execute((tx) => insertAll(tx, 'location_history', rows, 'on conflict (unit_id, ts) do nothing'));
  }

  /** The newest `limit` positions in [from, to], oldest first. */
  async locationHistory(unitId: string, from: number, to: number, limit: number): Promise<LocationRow[]> {
    const rows = await this.#db
      .selectFrom('location_history')
      .selectAll()
      .where('unit_id', '=', unitId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .orderBy('ts', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  // Commissioning

  async insertCommissioning(row: CommissioningRow): Promise<void> {
    await this.#db.insertInto('commissioning').values(row).execute();
  }

  /** A run's verdict and items after the unit judged a check it had left pending. */
  async updateCommissioning(id: string, passed: number, items: string): Promise<void> {
    await this.#db.updateTable('commissioning').set({ passed, items }).where('id', '=', id).execute();
  }

  /** Each unit's newest run, for the live view at start-up. */
  async latestCommissioning(): Promise<CommissioningRow[]> {
    const rows = await this.#db
      .selectFrom('commissioning as c')
      .selectAll('c')
      .where('c.requested_at', '=', (eb) =>
        eb
          .selectFrom('commissioning as d')
          .select((d) => d.fn.max('d.requested_at').as('m'))
          .whereRef('d.unit_id', '=', 'c.unit_id'),
      )
      .execute();
    // Two runs in the same millisecond: either is the latest.
    return [...new Map(rows.map((r) => [r.unit_id, r])).values()];
  }

  /** Newest first. */
  commissioningHistory(unitId: string, limit: number): Promise<CommissioningRow[]> {
    return this.#db
      .selectFrom('commissioning')
      .selectAll()
      .where('unit_id', '=', unitId)
      .orderBy('requested_at', 'desc')
      .limit(limit)
      .execute();
  }

  // API tokens

  async insertToken(row: TokenRow): Promise<void> {
    await this.#db.insertInto('api_tokens').values(row).execute();
  }

  findToken(hash: string): Promise<TokenRow | undefined> {
    return this.#db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  listTokens(): Promise<TokenRow[]> {
    return this.#db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute();
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    const r = await this.#db
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
