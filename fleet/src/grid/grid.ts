import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import Flatbush from 'flatbush';
import type { Feature, FeatureCollection, MultiPolygon, Polygon } from 'geojson';
import { CATEGORIES, type Category } from '../domain/alarm-rules.ts';

/**
 * The city's grid-governance hierarchy — district → street/town → community/village → grid cell —
 * read from GeoJSON, and the lookup from a position to its cell through a static R-tree (flatbush)
 * and point-in-polygon (turf) on the few cells whose box holds the point.
 *
 * Feature properties: `level` (district | street | community | cell), `id`, `name`, `parent` (the
 * id one level up; none for a district), `team` (a cell's responsible grid team), `dispatcher` (a
 * district's command centre), `departments` ({ category: department }, set on a district and
 * overridable below it).
 */

export const GRID_LEVELS = ['district', 'street', 'community', 'cell'] as const;
export type GridLevel = (typeof GRID_LEVELS)[number];

interface Area {
  id: string;
  name: string;
  level: GridLevel;
  parent: string | null;
  team: string | null;
  dispatcher: string | null;
  departments: Partial<Record<Category, string>>;
  geometry: Polygon | MultiPolygon;
}

/** Where a ticket goes: the cell, its parents, and who acts on it. */
export interface Route {
  matched: boolean;
  cell: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  /** The cell's grid team; null when no cell holds the position. */
  team: string | null;
  /** The department for the alarm's category; null when only a dispatcher can say. */
  department: string | null;
  /** Whoever dispatches: the district's command centre, or the city's when no district holds it. */
  dispatcher: string;
}

export class GridError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid grid:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  … ${problems.length - 20} more` : ''}`);
    this.problems = problems;
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

export class Grid {
  readonly #areas = new Map<string, Area>();
  readonly #cells: Area[] = [];
  readonly #districts: Area[] = [];
  readonly #cellIndex: Flatbush;
  readonly #cityDispatcher: string;
  /** The collection as read: the dashboard draws this very grid. */
  readonly source: FeatureCollection;

  /** Validates the whole collection; every problem is reported with the feature's index. */
  constructor(fc: FeatureCollection, cityDispatcher: string) {
    this.#cityDispatcher = cityDispatcher;
    this.source = fc;
    const problems: string[] = [];
    const levels: ReadonlySet<string> = new Set(GRID_LEVELS);
    const categories: ReadonlySet<string> = new Set(CATEGORIES);
    fc.features.forEach((f: Feature, i) => {
      const p = (f.properties ?? {}) as Record<string, unknown>;
      const id = str(p.id);
      const at = `features[${i}]${id ? ` (${id})` : ''}`;
      if (!id) problems.push(`${at}: no id`);
      if (!levels.has(String(p.level))) problems.push(`${at}: level must be one of ${GRID_LEVELS.join(', ')}`);
      if (f.geometry?.type !== 'Polygon' && f.geometry?.type !== 'MultiPolygon')
        problems.push(`${at}: geometry must be a Polygon or MultiPolygon`);
      const departments = (p.departments ?? {}) as Record<string, unknown>;
      for (const [c, d] of Object.entries(departments)) {
        if (!categories.has(c)) problems.push(`${at}: departments.${c} is not a category (${CATEGORIES.join(', ')})`);
        if (!str(d)) problems.push(`${at}: departments.${c} must name a department`);
      }
      if (!id || !levels.has(String(p.level))) return;
      if (this.#areas.has(id)) problems.push(`${at}: duplicate id`);
      const area: Area = {
        id,
        name: str(p.name) ?? id,
        level: p.level as GridLevel,
        parent: str(p.parent),
        team: str(p.team),
        dispatcher: str(p.dispatcher),
        departments: departments as Partial<Record<Category, string>>,
        geometry: f.geometry as Polygon | MultiPolygon,
      };
      this.#areas.set(id, area);
      if (area.level === 'cell') this.#cells.push(area);
      if (area.level === 'district') this.#districts.push(area);
    });
    for (const a of this.#areas.values()) {
      const want = GRID_LEVELS[GRID_LEVELS.indexOf(a.level) - 1];
      if (!want) continue;
      const parent = a.parent ? this.#areas.get(a.parent) : undefined;
      if (!parent || parent.level !== want) problems.push(`${a.id}: parent must be a ${want} (got ${a.parent ?? 'none'})`);
    }
    if (problems.length > 0) throw new GridError(problems);
    this.#cellIndex = new Flatbush(Math.max(1, this.#cells.length));
    for (const c of this.#cells) this.#cellIndex.add(...bbox(c.geometry));
    if (this.#cells.length === 0) this.#cellIndex.add(0, 0, 0, 0);
    this.#cellIndex.finish();
  }

  get cellCount(): number {
    return this.#cells.length;
  }

  /** The cell holding a position (lat, lon in degrees), through the index. */
  cellAt(lat: number, lon: number): string | null {
    const pt = [lon, lat];
    // In file order, as a scan would: a point on an edge two cells share belongs to the first.
    for (const i of this.#cellIndex.search(lon, lat, lon, lat).sort((a, b) => a - b)) {
      const c = this.#cells[i];
      if (c && booleanPointInPolygon(pt, c.geometry)) return c.id;
    }
    return null;
  }

  /** The same by trying every cell: the bench's baseline. */
  cellAtByScan(lat: number, lon: number): string | null {
    const pt = [lon, lat];
    for (const c of this.#cells) if (booleanPointInPolygon(pt, c.geometry)) return c.id;
    return null;
  }

  /** Who acts on an alarm of `category` at a position (null: the unit has none). */
  route(position: { lat: number; lon: number } | null, category: Category): Route {
    const cellId = position ? this.cellAt(position.lat, position.lon) : null;
    if (cellId) {
      const chain = this.#chain(cellId);
      const district = chain.find((a) => a.level === 'district');
      return {
        matched: true,
        cell: cellId,
        community: chain.find((a) => a.level === 'community')?.id ?? null,
        street: chain.find((a) => a.level === 'street')?.id ?? null,
        district: district?.id ?? null,
        team: chain[0]?.team ?? null,
        department: chain.map((a) => a.departments[category]).find((d) => d !== undefined) ?? null,
        dispatcher: district?.dispatcher ?? this.#cityDispatcher,
      };
    }
    // In no cell: never dropped — the district's dispatcher (or the city's) decides who acts.
    const district = position ? this.#districts.find((d) => booleanPointInPolygon([position.lon, position.lat], d.geometry)) : undefined;
    return {
      matched: false,
      cell: null,
      community: null,
      street: null,
      district: district?.id ?? null,
      team: null,
      department: null,
      dispatcher: district?.dispatcher ?? this.#cityDispatcher,
    };
  }

  /** The area's name from the grid file; null for an unknown id or one named only by its id. */
  nameOf(id: string): string | null {
    const name = this.#areas.get(id)?.name;
    return name !== undefined && name !== id ? name : null;
  }

  /** The area's parents, up to the district: for KPIs by level. */
  parentsOf(cellId: string): { community: string | null; street: string | null; district: string | null } {
    const chain = this.#chain(cellId);
    const of = (l: GridLevel) => chain.find((a) => a.level === l)?.id ?? null;
    return { community: of('community'), street: of('street'), district: of('district') };
  }

  #chain(id: string): Area[] {
    const out: Area[] = [];
    for (let a = this.#areas.get(id); a; a = a.parent ? this.#areas.get(a.parent) : undefined) out.push(a);
    return out;
  }
}

function bbox(g: Polygon | MultiPolygon): [number, number, number, number] {
  let [minX, minY, maxX, maxY] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const rings = g.type === 'Polygon' ? g.coordinates : g.coordinates.flat();
  for (const ring of rings)
    for (const [x = 0, y = 0] of ring) {
      if (x < minX) minX = x;
      if (y < minY) minY = y;
      if (x > maxX) maxX = x;
      if (y > maxY) maxY = y;
    }
  return [minX, minY, maxX, maxY];
}
