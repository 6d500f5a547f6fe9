/**
 * An offline map: districts and the river from a shipped GeoJSON, units as markers, drawn as SVG
 * with an equirectangular projection corrected by cos(latitude) — ample at city scale, and no tile
 * server or internet needed at an emergency scene.
 */
type Position = [number, number];
interface Feature {
  properties: { name: string; level: string };
  geometry: { type: 'Polygon'; coordinates: Position[][] } | { type: 'LineString'; coordinates: Position[] };
}
export interface Geo {
  features: Feature[];
}
export interface Marker {
  id: string;
  lat: number;
  lon: number;
  colour: string;
}

const NS = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export class MapView {
  readonly #svg: SVGSVGElement;
  readonly #geo: Geo;
  readonly #units: SVGGElement;
  #project: (p: Position) => [number, number] = () => [0, 0];

  constructor(svg: SVGSVGElement, geo: Geo) {
    this.#svg = svg;
    this.#geo = geo;
    this.#units = el('g', { class: 'units' });
  }

  /** Fits the view to the districts and the given markers, then draws the base layers. */
  draw(markers: Marker[]): void {
    const points: Position[] = this.#geo.features.flatMap((f) =>
      f.geometry.type === 'Polygon' ? (f.geometry.coordinates[0] ?? []) : f.geometry.coordinates,
    );
    for (const m of markers) points.push([m.lon, m.lat]);
    const lons = points.map((p) => p[0]);
    const lats = points.map((p) => p[1]);
    const [w, e, s, n] = [Math.min(...lons), Math.max(...lons), Math.min(...lats), Math.max(...lats)];
    const k = Math.cos((((s + n) / 2) * Math.PI) / 180);
    const width = 1000;
    const height = Math.round((width * (n - s)) / ((e - w) * k));
    const pad = 30;
    this.#svg.setAttribute('viewBox', `${-pad} ${-pad} ${width + 2 * pad} ${height + 2 * pad}`);
    this.#project = ([lon, lat]) => [((lon - w) / (e - w)) * width, ((n - lat) / (n - s)) * height];
    this.#svg.replaceChildren();
    for (const f of this.#geo.features) {
      if (f.geometry.type === 'Polygon') {
        const ring = f.geometry.coordinates[0] ?? [];
        const d = `${ring.map((p, i) => `${i ? 'L' : 'M'}${this.#project(p).join(',')}`).join('')}Z`;
        this.#svg.append(el('path', { d, class: 'district' }));
        const c = ring
          .slice(0, -1)
          .reduce<[number, number]>((a, p) => [a[0] + p[0] / (ring.length - 1), a[1] + p[1] / (ring.length - 1)], [0, 0]);
        const [x, y] = this.#project(c);
        const label = el('text', { x, y, class: 'district-label' });
        label.textContent = f.properties.name;
        this.#svg.append(label);
      } else {
        const d = f.geometry.coordinates.map((p, i) => `${i ? 'L' : 'M'}${this.#project(p).join(',')}`).join('');
        this.#svg.append(el('path', { d, class: 'river' }));
      }
    }
    this.#svg.append(this.#units);
  }

  update(markers: Marker[]): void {
    this.#units.replaceChildren(
      ...markers.map((m) => {
        const [x, y] = this.#project([m.lon, m.lat]);
        const g = el('g', { class: 'unit', 'data-unit': m.id, transform: `translate(${x.toFixed(1)},${y.toFixed(1)})` });
        g.append(el('circle', { r: 9, fill: m.colour }));
        const t = el('text', { x: 13, y: 4 });
        t.textContent = m.id;
        g.append(t);
        return g;
      }),
    );
  }
}
