import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isRole, type Role } from '../domain/roles.ts';
import type { Clock } from '../services/fleet-state.ts';
import type { FleetStore } from '../storage/store.ts';

/** 192-bit random bearer tokens, stored as sha256 (their entropy, not a work factor, protects them). */
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface Principal {
  role: Role;
  /** Token id, or `bootstrap` for the configured admin token. */
  tokenId: string;
  /** The name the token was issued under: who, in the audit log and on the dashboard. */
  name: string;
}

export interface IssuedToken {
  id: string;
  role: Role;
  name: string;
  /** Shown once. */
  token: string;
}

export class TokenService {
  readonly #store: FleetStore;
  readonly #bootstrap: Buffer | null;
  readonly #clock: Clock;

  constructor(store: FleetStore, bootstrapAdminToken: string, clock: Clock) {
    this.#store = store;
    this.#bootstrap = bootstrapAdminToken ? Buffer.from(sha256(bootstrapAdminToken)) : null;
    this.#clock = clock;
  }

  /** True once an admin token is configured: from then on every request needs a token. */
  get enforced(): boolean {
    return this.#bootstrap !== null;
  }

  async authenticate(token: string): Promise<Principal | null> {
    const hash = sha256(token);
    if (this.#bootstrap && timingSafeEqual(Buffer.from(hash), this.#bootstrap))
      return { role: 'admin', tokenId: 'bootstrap', name: 'bootstrap admin' };
    const row = await this.#store.findToken(hash);
    return row && isRole(row.role) ? { role: row.role, tokenId: row.id, name: row.name } : null;
  }

  async issue(role: Role, name: string): Promise<IssuedToken> {
    const token = `swt_${randomBytes(24).toString('base64url')}`;
    const id = `tok_${randomBytes(6).toString('hex')}`;
    await this.#store.insertToken({ id, token_hash: sha256(token), role, name, created_at: this.#clock.now(), revoked_at: null });
    return { id, role, name, token };
  }

  async list(): Promise<{ id: string; role: string; name: string; createdAt: number; revokedAt: number | null }[]> {
    return (await this.#store.listTokens()).map((r) => ({
      id: r.id,
      role: r.role,
      name: r.name,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  revoke(id: string): Promise<boolean> {
    return this.#store.revokeToken(id, this.#clock.now());
  }
}
