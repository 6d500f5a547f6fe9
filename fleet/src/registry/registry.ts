import { createHash, randomInt } from 'node:crypto';
import { CLAIM_CODE_ALPHABET, CLAIM_CODE_LENGTH, claimCodeSymbols, formatClaimCode, isUnitId } from '@shouwang/protocol';
import { hashSecret, MACHINE_SECRET_COST, newSecret } from '@shouwang/runtime/secrets';
import type { Clock, FleetState } from '../services/fleet-state.ts';
import type { UnitRow } from '../storage/schema.ts';
import type { FleetStore, UnitPatch } from '../storage/store.ts';
import type { CredentialsWriter } from './credentials-file.ts';

/** A registered unit as the API shows it (never its hashes). */
export interface RegisteredUnit {
  id: string;
  board: string | null;
  tags: string[];
  site: { name: string | null; lat: number; lon: number } | null;
  gridCell: string | null;
  /** Monthly data budget, bytes; null = the default for the unit's link type. */
  dataBudgetBytes: number | null;
  createdAt: number;
  status: 'awaiting-claim' | 'active' | 'revoked';
  claimExpiresAt: number | null;
  claimedAt: number | null;
  revokedAt: number | null;
}

export interface UnitDetails {
  board?: string | null;
  tags?: string[];
  site?: { name?: string | null; lat: number; lon: number } | null;
  gridCell?: string | null;
  dataBudgetBytes?: number | null;
}

/** What a claimed unit needs to connect: its own MQTT credentials, shown once. */
export interface IssuedCredentials {
  unitId: string;
  username: string;
  password: string;
}

export class RegistryError extends Error {
  readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID' | 'CLAIM_REJECTED';
  constructor(code: RegistryError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The protocol's claim code (60 bits); single use and short-lived, so a fast hash finds it. */
export function newClaimCode(): string {
  return formatClaimCode(
    Array.from({ length: CLAIM_CODE_LENGTH }, () => CLAIM_CODE_ALPHABET[randomInt(CLAIM_CODE_ALPHABET.length)]).join(''),
  );
}

/** A typed code that cannot be one hashes as nothing, which matches no unit: the same refusal as a wrong code. */
export function claimHash(code: string): string {
  return createHash('sha256')
    .update(claimCodeSymbols(code) ?? '')
    .digest('hex');
}

export interface RegistryDeps {
  store: FleetStore;
  state: FleetState;
  /** Absent when the gateway's credentials come from elsewhere (e.g. the dev orchestrator). */
  credentials: CredentialsWriter | null;
  clock: Clock;
  claimTtlMs: number;
  /** Tells a claimed unit its deployment site (its geofence centre) whenever the registry records one. */
  pushSite?: (unitId: string, site: { lat: number; lon: number }) => Promise<void>;
}

/**
 * Registry and provisioning: a unit is registered (maintainer) with a one-time claim code; a
 * technician on site claims it with that code and the unit receives its own MQTT secret (no shared
 * secret baked into images). Rotation issues a new secret; revocation removes it, and the gateway
 * ends the unit's session as soon as it reloads the credentials file.
 */
export class Registry {
  readonly #d: RegistryDeps;

  constructor(deps: RegistryDeps) {
    this.#d = deps;
  }

  async list(): Promise<RegisteredUnit[]> {
    return (await this.#d.store.listUnits()).map(toView);
  }

  async has(id: string): Promise<boolean> {
    return (await this.#d.store.getUnit(id)) !== undefined;
  }

  async get(id: string): Promise<RegisteredUnit> {
    return toView(await this.#row(id));
  }

  async register(id: string, details: UnitDetails): Promise<{ unit: RegisteredUnit; claimCode: string }> {
    if (!isUnitId(id)) throw new RegistryError('INVALID', `not a valid unit id: ${id}`);
    if (await this.#d.store.getUnit(id)) throw new RegistryError('CONFLICT', `unit ${id} is already registered`);
    const claimCode = newClaimCode();
    const now = this.#d.clock.now();
    await this.#d.store.insertUnit({
      id,
      ...toPatch(details),
      tags: JSON.stringify(details.tags ?? []),
      created_at: now,
      claim_code_hash: claimHash(claimCode),
      claim_expires_at: now + this.#d.claimTtlMs,
    });
    this.#pin(id, details);
    return { unit: await this.get(id), claimCode };
  }

  async update(id: string, details: UnitDetails): Promise<RegisteredUnit> {
    const row = await this.#row(id);
    await this.#d.store.updateUnit(id, toPatch(details));
    this.#pin(id, details);
    // Only a claimed unit has a session to receive it; an unclaimed one gets its site at the claim.
    if (details.site && row.claimed_at !== null) await this.#d.pushSite?.(id, { lat: details.site.lat, lon: details.site.lon });
    return this.get(id);
  }

  /** Claims with a code; details given on site (site, grid cell) are recorded with it. */
  async claim(code: string, details: UnitDetails): Promise<IssuedCredentials> {
    const hash = claimHash(code);
    const row = await this.#d.store.findUnitByClaimHash(hash);
    const now = this.#d.clock.now();
    // One message for every failure: a caller guessing codes learns nothing about which exist.
    const rejected = new RegistryError('CLAIM_REJECTED', 'unknown, used or expired claim code');
    if (!row || row.revoked_at !== null || (row.claim_expires_at !== null && row.claim_expires_at < now)) throw rejected;
    const password = newSecret();
    const secretHash = await hashSecret(password, MACHINE_SECRET_COST);
    if (!(await this.#d.store.claimUnit(row.id, hash, { ...toPatch(details), claimed_at: now, secret_hash: secretHash }))) throw rejected;
    await this.#d.credentials?.update({ [row.id]: secretHash });
    this.#pin(row.id, details);
    const site = details.site ?? (row.site_lat !== null && row.site_lon !== null ? { lat: row.site_lat, lon: row.site_lon } : undefined);
    if (site) await this.#d.pushSite?.(row.id, { lat: site.lat, lon: site.lon });
    return { unitId: row.id, username: row.id, password };
  }

  async rotate(id: string): Promise<IssuedCredentials> {
    const row = await this.#row(id);
    if (row.secret_hash === null) throw new RegistryError('CONFLICT', `unit ${id} has no active credential to rotate`);
    const password = newSecret();
    const secretHash = await hashSecret(password, MACHINE_SECRET_COST);
    await this.#d.store.updateUnit(id, { secret_hash: secretHash });
    await this.#d.credentials?.update({ [id]: secretHash });
    return { unitId: id, username: id, password };
  }

  async revoke(id: string): Promise<RegisteredUnit> {
    await this.#row(id);
    await this.#d.store.updateUnit(id, {
      secret_hash: null,
      claim_code_hash: null,
      claim_expires_at: null,
      revoked_at: this.#d.clock.now(),
    });
    await this.#d.credentials?.update({ [id]: null });
    return this.get(id);
  }

  /** Re-writes every registry entry of the credentials file (start-up reconciliation). */
  async syncCredentials(): Promise<void> {
    const rows = await this.#d.store.listUnits();
    await this.#d.credentials?.update(Object.fromEntries(rows.map((r) => [r.id, r.secret_hash])));
    for (const r of rows) {
      if (r.site_lat !== null && r.site_lon !== null) this.#d.state.setDeployment(r.id, { lat: r.site_lat, lon: r.site_lon });
      if (r.data_budget_bytes !== null) this.#d.state.setDataBudget(r.id, r.data_budget_bytes);
    }
  }

  async #row(id: string): Promise<UnitRow> {
    const row = await this.#d.store.getUnit(id);
    if (!row) throw new RegistryError('NOT_FOUND', `no registered unit ${id}`);
    return row;
  }

  #pin(id: string, details: UnitDetails): void {
    if (details.site) this.#d.state.setDeployment(id, { lat: details.site.lat, lon: details.site.lon });
    if (details.dataBudgetBytes !== undefined) this.#d.state.setDataBudget(id, details.dataBudgetBytes);
  }
}

function toPatch(d: UnitDetails): UnitPatch {
  const patch: UnitPatch = {};
  if (d.board !== undefined) patch.board = d.board;
  if (d.tags !== undefined) patch.tags = JSON.stringify(d.tags);
  if (d.gridCell !== undefined) patch.grid_cell = d.gridCell;
  if (d.dataBudgetBytes !== undefined) patch.data_budget_bytes = d.dataBudgetBytes;
  if (d.site !== undefined) {
    patch.site_name = d.site?.name ?? null;
    patch.site_lat = d.site?.lat ?? null;
    patch.site_lon = d.site?.lon ?? null;
  }
  return patch;
}

function toView(r: UnitRow): RegisteredUnit {
  return {
    id: r.id,
    board: r.board,
    tags: JSON.parse(r.tags) as string[],
    site: r.site_lat !== null && r.site_lon !== null ? { name: r.site_name, lat: r.site_lat, lon: r.site_lon } : null,
    gridCell: r.grid_cell,
    dataBudgetBytes: r.data_budget_bytes,
    createdAt: r.created_at,
    status: r.revoked_at !== null ? 'revoked' : r.secret_hash !== null ? 'active' : 'awaiting-claim',
    claimExpiresAt: r.claim_expires_at,
    claimedAt: r.claimed_at,
    revokedAt: r.revoked_at,
  };
}
