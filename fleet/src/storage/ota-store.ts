import type { Kysely } from 'kysely';
import type { Database, OtaArtifactRow, OtaCampaignRow, OtaCampaignUnitRow, OtaReleaseRow } from './schema.ts';

type CampaignPatch = Partial<Omit<OtaCampaignRow, 'id'>>;
type UnitPatch = Partial<Omit<OtaCampaignUnitRow, 'campaign_id' | 'unit_id'>>;

/** Releases, their artifacts, campaigns and each unit's place in them (SQLite and PostgreSQL alike). */
export class OtaStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  get db(): Kysely<Database> {
    return this.#db;
  }

  // Releases

  /** Inserts a release and its artifacts; false when the version exists (a release is never replaced). */
  async insertRelease(row: OtaReleaseRow, artifacts: readonly OtaArtifactRow[]): Promise<boolean> {
    return this.#db.transaction().execute(async (tx) => {
      const r = await tx
        .insertInto('ota_releases')
        .values(row)
        .onConflict((oc) => oc.column('version').doNothing())
        .executeTakeFirst();
      if ((r.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
      if (artifacts.length > 0)
        await tx
          .insertInto('ota_artifacts')
          .values([...artifacts])
          .execute();
      return true;
    });
  }

  getRelease(version: string): Promise<OtaReleaseRow | undefined> {
    return this.#db.selectFrom('ota_releases').selectAll().where('version', '=', version).executeTakeFirst();
  }

  listReleases(): Promise<OtaReleaseRow[]> {
    return this.#db.selectFrom('ota_releases').selectAll().orderBy('published_at', 'desc').execute();
  }

  artifacts(version: string): Promise<OtaArtifactRow[]> {
    return this.#db.selectFrom('ota_artifacts').selectAll().where('version', '=', version).orderBy('id').execute();
  }

  artifact(id: string): Promise<OtaArtifactRow | undefined> {
    return this.#db.selectFrom('ota_artifacts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // Campaigns

  async insertCampaign(row: OtaCampaignRow, units: readonly OtaCampaignUnitRow[]): Promise<void> {
    await this.#db.transaction().execute(async (tx) => {
      await tx.insertInto('ota_campaigns').values(row).execute();
      for (let i = 0; i < units.length; i += 500)
        await tx
          .insertInto('ota_campaign_units')
          .values(units.slice(i, i + 500))
          .execute();
    });
  }

  getCampaign(tx: Kysely<Database>, id: string): Promise<OtaCampaignRow | undefined> {
    return tx.selectFrom('ota_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The campaign inside a transaction that settles it: a write that changes nothing takes its row
   * lock (PostgreSQL; SQLite has one writer), so two units' reports settle one after the other and
   * the second sees the first's unit. Plain reads would each see the other unit still working and
   * neither would complete the campaign (write skew under READ COMMITTED).
   */
  async lockCampaign(tx: Kysely<Database>, id: string): Promise<OtaCampaignRow | undefined> {
    await tx
      .updateTable('ota_campaigns')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('id', '=', id)
      .execute();
    return this.getCampaign(tx, id);
  }

  listCampaigns(limit: number): Promise<OtaCampaignRow[]> {
    return this.#db.selectFrom('ota_campaigns').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  }

  campaignsIn(state: string): Promise<OtaCampaignRow[]> {
    return this.#db.selectFrom('ota_campaigns').selectAll().where('state', '=', state).execute();
  }

  /** Changes a campaign only from the state it was read in: of two racing moves, one wins. */
  async moveCampaign(tx: Kysely<Database>, id: string, from: string, patch: CampaignPatch): Promise<boolean> {
    const r = await tx.updateTable('ota_campaigns').set(patch).where('id', '=', id).where('state', '=', from).executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** When a campaign's next wave is looked at (its earliest wave timer not fired yet); null when none is set. */
  async nextWaveDue(db: Kysely<Database>, campaignId: string): Promise<number | null> {
    const r = await db
      .selectFrom('ota_timers')
      .select((eb) => eb.fn.min('due_at').as('due'))
      .where('campaign_id', '=', campaignId)
      .where('kind', 'like', 'wave-%')
      .where('fired_at', 'is', null)
      .executeTakeFirst();
    return r?.due == null ? null : Number(r.due);
  }

  // Units in campaigns

  units(tx: Kysely<Database>, campaignId: string): Promise<OtaCampaignUnitRow[]> {
    return tx
      .selectFrom('ota_campaign_units')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .orderBy('wave')
      .orderBy('unit_id')
      .execute();
  }

  unit(tx: Kysely<Database>, campaignId: string, unitId: string): Promise<OtaCampaignUnitRow | undefined> {
    return tx
      .selectFrom('ota_campaign_units')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('unit_id', '=', unitId)
      .executeTakeFirst();
  }

  /** Updates a unit's row only while it is in one of `from`: a late report never undoes an end. */
  async moveUnit(tx: Kysely<Database>, campaignId: string, unitId: string, from: readonly string[], patch: UnitPatch): Promise<boolean> {
    const r = await tx
      .updateTable('ota_campaign_units')
      .set(patch)
      .where('campaign_id', '=', campaignId)
      .where('unit_id', '=', unitId)
      .where('state', 'in', [...from])
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * Marks a queued job as handed over now, only if nobody else did since it was read (`before`): of
   * two instances handing the same job, one sends it.
   */
  async markHanded(db: Kysely<Database>, campaignId: string, unitId: string, before: number | null, now: number): Promise<boolean> {
    let q = db
      .updateTable('ota_campaign_units')
      .set({ delivered_at: now })
      .where('campaign_id', '=', campaignId)
      .where('unit_id', '=', unitId)
      .where('state', '=', 'queued');
    q = before === null ? q.where('delivered_at', 'is', null) : q.where('delivered_at', '=', before);
    return (await q.executeTakeFirst()).numUpdatedRows > 0n;
  }

  /** Moves every unit of a campaign in one of `from` (optionally of one wave) to `patch`; returns how many. */
  async moveUnits(tx: Kysely<Database>, campaignId: string, from: readonly string[], patch: UnitPatch, wave?: number): Promise<number> {
    let q = tx
      .updateTable('ota_campaign_units')
      .set(patch)
      .where('campaign_id', '=', campaignId)
      .where('state', 'in', [...from]);
    if (wave !== undefined) q = q.where('wave', '=', wave);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** A unit's jobs still to deliver, in running campaigns: what a unit waking up is sent. */
  queuedFor(unitId: string): Promise<(OtaCampaignUnitRow & { version: string; deadline_at: number | null; policy: string })[]> {
    return this.#db
      .selectFrom('ota_campaign_units as u')
      .innerJoin('ota_campaigns as c', 'c.id', 'u.campaign_id')
      .selectAll('u')
      .select(['c.version', 'c.deadline_at', 'c.policy'])
      .where('u.unit_id', '=', unitId)
      .where('u.state', '=', 'queued')
      .where('c.state', '=', 'running')
      .execute();
  }
}
