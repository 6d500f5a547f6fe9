import type { CommissionItem } from '@shouwang/protocol';
import type { UnitView } from '../src/domain/unit-state.ts';

/**
 * What the page holds per unit: the live view from the stream and the registry entry (site name,
 * grid cell, claim status). A registered unit never heard has a registry entry and no view.
 * Shapes the page reads from API answers that have no protocol or domain type it can import
 * (the registry module imports node: modules) are declared here, as far as the page reads them.
 */
export interface RegistryEntry {
  id: string;
  site: { name: string | null; lat: number; lon: number } | null;
  gridCell: string | null;
  status: 'awaiting-claim' | 'active' | 'revoked';
}

export interface Row {
  id: string;
  view: UnitView | null;
  reg: RegistryEntry | null;
}

export interface DashboardConfig {
  timeZone: string;
  siteRadiusM: number;
  tiles: { url: string; attribution: string; maxZoom: number };
}

export interface Session {
  role: 'technician' | 'commander' | 'maintainer' | 'admin' | null;
  name: string | null;
  tokenId: string | null;
  tokenRequired: boolean;
}

export interface AuditEntry {
  at: number;
  actor: string;
  /** Token id; `bootstrap` for the configured admin token. */
  actorId: string;
  role: string;
  action: string;
  status: number;
  result: string;
  message: string | null;
}

/** The units the page knows, keyed, with the set changed since the last frame. */
export class Fleet {
  readonly rows = new Map<string, Row>();
  readonly #dirty = new Set<string>();

  setView(u: UnitView): void {
    const row = this.rows.get(u.id);
    if (row) row.view = u;
    else this.rows.set(u.id, { id: u.id, view: u, reg: null });
    this.#dirty.add(u.id);
  }

  setRegistry(entries: readonly RegistryEntry[]): void {
    for (const e of entries) {
      const row = this.rows.get(e.id);
      if (row) row.reg = e;
      else this.rows.set(e.id, { id: e.id, view: null, reg: e });
      this.#dirty.add(e.id);
    }
  }

  /** Ids changed since the last call. */
  takeDirty(): string[] {
    const out = [...this.#dirty];
    this.#dirty.clear();
    return out;
  }

  markAll(): void {
    this.mark(this.rows.keys());
  }

  mark(ids: Iterable<string>): void {
    for (const id of ids) this.#dirty.add(id);
  }
}

/** A commissioning run as the API answers it (the fleet's CommissioningRecord). */
export interface CommissionRun {
  ts: number;
  requestedAt: number;
  passed: boolean;
  items: CommissionItem[];
}
