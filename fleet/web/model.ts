import { type CommissionItem, positionOf } from '@shouwang/protocol';
import type { DashboardUnit } from '../src/domain/dashboard-overlay.ts';
import type { Role } from '../src/domain/roles.ts';
import type { Grid } from '../src/grid/grid.ts';

/**
 * What the page holds per unit: the live view from the stream (with its standing alarms), the
 * registry entry (site name, claim status) and the grid cell its tickets are routed to. A
 * registered unit never heard has a registry entry and no view.
 * Shapes the page reads from API answers that have no protocol or domain type it can import
 * (the registry module imports node: modules) are declared here, as far as the page reads them.
 */
export interface RegistryEntry {
  id: string;
  site: { name: string | null; lat: number; lon: number } | null;
  status: 'awaiting-claim' | 'active' | 'revoked';
}

export interface Row {
  id: string;
  view: DashboardUnit | null;
  reg: RegistryEntry | null;
  /** The grid cell a ticket about this unit goes to (null: in no cell, or the grid not loaded yet). */
  cell: string | null;
}

export interface DashboardConfig {
  timeZone: string;
  siteRadiusM: number;
  /** The base layer: the fleet's offline tile file (its route), else a tile server's template, else none. */
  tiles: { archive: string; url: string; attribution: string; maxZoom: number; nativeMaxZoom: number };
  clock: FleetClock;
}

/** The fleet's now when it was sent, and fleet seconds per real second (`--time-scale`). */
export interface FleetClock {
  now: number;
  scale: number;
}

export interface Session {
  role: Role | null;
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

/**
 * Where the alarm loop places a unit for its tickets (src/alarms/loop.ts): its reported fix, else
 * its deployment (the registered site, else its first fix), else, never heard, its registered site.
 */
function placeOf(row: Row): { lat: number; lon: number } | null {
  const u = row.view;
  return (u?.location && positionOf(u.location)) ?? u?.outlook.location.deployment ?? row.reg?.site ?? null;
}

/** The units the page knows, keyed, with the set changed since the last frame. */
export class Fleet {
  readonly rows = new Map<string, Row>();
  readonly #dirty = new Set<string>();
  #grid: Grid | null = null;

  setView(u: DashboardUnit): void {
    const row = this.#row(u.id);
    row.view = u;
    this.#place(row);
  }

  setRegistry(entries: readonly RegistryEntry[]): void {
    for (const e of entries) {
      const row = this.#row(e.id);
      row.reg = e;
      this.#place(row);
    }
  }

  /** The fleet's grid (the tickets' own): every unit's cell is looked up in it. */
  setGrid(grid: Grid): void {
    this.#grid = grid;
    for (const row of this.rows.values()) this.#place(row);
  }

  #row(id: string): Row {
    let row = this.rows.get(id);
    if (!row) {
      row = { id, view: null, reg: null, cell: null };
      this.rows.set(id, row);
    }
    return row;
  }

  #place(row: Row): void {
    const at = this.#grid ? placeOf(row) : null;
    row.cell = at && this.#grid ? this.#grid.cellAt(at.lat, at.lon) : null;
    this.#dirty.add(row.id);
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
