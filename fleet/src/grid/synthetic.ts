import { booleanPointInPolygon } from '@turf/boolean-point-in-polygon';
import type { Feature, FeatureCollection, Polygon } from 'geojson';

/**
 * A SYNTHETIC grid for districts given as polygons: a square lattice of cells of `side` degrees,
 * each cell in the first district holding its centre, grouped into communities of 4 × 4 cells and
 * streets of 3 × 3 communities (their polygons are their cells' boxes). Teams and departments are
 * made-up names. For the shipped sample and for benches, never for a real city.
 */
export interface DistrictShape {
  id: string;
  name: string;
  /** The name on the Chinese map (`name_zh`). */
  nameZh?: string;
  polygon: Polygon;
}

const COMMUNITY = 4;
const STREET = 3 * COMMUNITY;

function box(x0: number, y0: number, x1: number, y1: number): Polygon {
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    type: 'Polygon',
    coordinates: [
      [
        [r(x0), r(y0)],
        [r(x1), r(y0)],
        [r(x1), r(y1)],
        [r(x0), r(y1)],
        [r(x0), r(y0)],
      ],
    ],
  };
}

const pad = (n: number) => String(n).padStart(3, '0');

export function synthesizeGrid(districts: readonly DistrictShape[], side: number): FeatureCollection {
  const all = districts.flatMap((d) => d.polygon.coordinates.flat());
  const x0 = Math.min(...all.map((p) => p[0] ?? 0));
  const y0 = Math.min(...all.map((p) => p[1] ?? 0));
  const nx = Math.ceil((Math.max(...all.map((p) => p[0] ?? 0)) - x0) / side);
  const ny = Math.ceil((Math.max(...all.map((p) => p[1] ?? 0)) - y0) / side);
  const features: Feature[] = [];
  const groups = new Map<string, { level: 'street' | 'community'; parent: string; box: [number, number, number, number] }>();
  const grow = (id: string, level: 'street' | 'community', parent: string, b: [number, number, number, number]) => {
    const g = groups.get(id);
    if (!g) groups.set(id, { level, parent, box: [...b] });
    else g.box = [Math.min(g.box[0], b[0]), Math.min(g.box[1], b[1]), Math.max(g.box[2], b[2]), Math.max(g.box[3], b[3])];
  };
  for (let i = 0; i < nx; i++)
    for (let j = 0; j < ny; j++) {
      const b: [number, number, number, number] = [x0 + i * side, y0 + j * side, x0 + (i + 1) * side, y0 + (j + 1) * side];
      const centre = [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
      const d = districts.find((x) => booleanPointInPolygon(centre, x.polygon));
      if (!d) continue;
      const street = `${d.id}-s${pad(Math.floor(i / STREET))}-${pad(Math.floor(j / STREET))}`;
      const community = `${d.id}-c${pad(Math.floor(i / COMMUNITY))}-${pad(Math.floor(j / COMMUNITY))}`;
      grow(street, 'street', d.id, b);
      grow(community, 'community', street, b);
      const id = `${d.id}-g${pad(i)}-${pad(j)}`;
      features.push({
        type: 'Feature',
        properties: { level: 'cell', id, name: `Grid ${pad(i)}-${pad(j)}`, parent: community, team: `${id} grid team` },
        geometry: box(...b),
      });
    }
  for (const [id, g] of groups)
    features.unshift({ type: 'Feature', properties: { level: g.level, id, name: id, parent: g.parent }, geometry: box(...g.box) });
  for (const d of districts)
    features.unshift({
      type: 'Feature',
      properties: {
        level: 'district',
        id: d.id,
        name: d.name,
        ...(d.nameZh ? { name_zh: d.nameZh } : {}),
        dispatcher: `${d.name} district command centre`,
        departments: {
          'public-security': `${d.name} public security sub-bureau`,
          'fire-safety': `${d.name} fire rescue brigade`,
          'city-management': `${d.name} urban management bureau`,
          utilities: `${d.name} utilities office`,
          'unit-maintenance': 'Shouwang field crew',
        },
      },
      geometry: d.polygon,
    });
  return { type: 'FeatureCollection', features };
}
