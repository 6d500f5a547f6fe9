import { positionOf } from '@shouwang/protocol';
import type * as Leaflet from 'leaflet';
import L from './leaflet-global.ts';
import 'leaflet.markercluster';
import { leafletRasterLayer, PMTiles } from 'pmtiles';
import type { CellTickets } from '../src/domain/dashboard-overlay.ts';
import type { Condition } from './condition.ts';
import { esc } from './html.ts';
import { lang, t } from './i18n.ts';
import type { DashboardConfig, Row } from './model.ts';
import type { Key } from './strings.ts';

/**
 * The command map: Leaflet, bundled and served by the fleet (no CDN), over the fleet's own grid —
 * the one tickets are routed on (GET /api/dashboard/grid): district outlines at city zoom, every
 * cell once zoomed in, and at any zoom the cells with open tickets coloured by their worst light —
 * with the shipped Songhua, over an operator's offline tile file (PMTiles) or tile server. Units are markers clustered when
 * they crowd, coloured and shaped by their worst condition; a click opens the unit. The selected
 * unit shows its deployment radius, its grid cell and its track (stored positions, then live ones).
 */
interface RiverFeature {
  type: 'Feature';
  properties: { name: string; name_zh: string; level: 'river' };
  geometry: { type: 'LineString'; coordinates: number[][] };
}
export interface Geo {
  type: 'FeatureCollection';
  features: RiverFeature[];
}
interface AreaProps {
  level: 'district' | 'street' | 'community' | 'cell';
  id: string;
  name: string;
  name_zh?: string;
}
type TrackPoint = { ts: number; lat: number; lon: number };
type AreaFeature = GeoJSON.Feature<GeoJSON.Polygon | GeoJSON.MultiPolygon, AreaProps>;

interface Entry {
  marker: Leaflet.Marker;
  key: string;
  shown: boolean;
  level: Condition['level'];
  track: Leaflet.LatLng[];
  /** At its registered site, not at a reported position. */
  placed: boolean;
}

const TRACK_POINTS = 100;
/** A new track point once a unit has moved this far (GNSS wander on a parked unit is less). */
const TRACK_STEP_M = 25;
const LABEL_ZOOM = 13;
/** A cell is ~1 km across: from here on it is drawn large enough to read. */
const CELL_ZOOM = 12;
const SELECTED_ZOOM = 15;
/** Beyond this many markers hidden at once the clusters are rebuilt instead. */
const REBUILD_AT = 100;

export class FleetMap {
  readonly #map: Leaflet.Map;
  readonly #cluster: Leaflet.MarkerClusterGroup;
  readonly #entries = new Map<string, Entry>();
  readonly #districts: Leaflet.GeoJSON;
  readonly #cellFeatures = new Map<string, AreaFeature>();
  /** Every cell, built the first time the map is zoomed in to them (thousands of paths, on a canvas). */
  #allCells: Leaflet.GeoJSON | null = null;
  /** The cells with open tickets, drawn at every zoom. */
  readonly #ticketCells: Leaflet.LayerGroup;
  #tickets = new Map<string, CellTickets>();
  readonly #canvas: Leaflet.Canvas;
  readonly #legend: Leaflet.Control;
  readonly #selection: Leaflet.LayerGroup;
  readonly #config: DashboardConfig;
  #zoom: Leaflet.Control.Zoom;
  #fitted = false;
  #selected: string | null = null;
  #selectedRow: Row | null = null;
  readonly #storedTracks = new Map<string, readonly TrackPoint[]>();

  constructor(el: HTMLElement, river: Geo, config: DashboardConfig, onSelect: (id: string) => void) {
    this.#config = config;
    this.#map = L.map(el, { zoomSnap: 0.5, minZoom: 7, maxZoom: config.tiles.maxZoom, zoomControl: false });
    this.#zoom = L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(this.#map);
    this.#map.attributionControl.setPrefix(false);
    const base = { maxZoom: config.tiles.maxZoom, maxNativeZoom: config.tiles.nativeMaxZoom, attribution: esc(config.tiles.attribution) };
    // Over a real base map the districts are outlines only, not the shipped map's opaque land.
    el.classList.toggle('has-tiles', Boolean(config.tiles.archive || config.tiles.url));
    if (config.tiles.archive) (leafletRasterLayer(new PMTiles(config.tiles.archive), base) as Leaflet.Layer).addTo(this.#map);
    else if (config.tiles.url) L.tileLayer(config.tiles.url, base).addTo(this.#map);
    // Leaflet draws a pane's canvas under its SVG (the districts' fill): the cells get a pane of their own just above.
    this.#map.createPane('cells').style.zIndex = '405';
    this.#canvas = L.canvas({ padding: 0.2, pane: 'cells' });
    this.#districts = L.geoJSON(undefined, {
      style: () => ({ className: 'geo-district' }),
      onEachFeature: (_f, layer) => {
        layer.bindTooltip('', { permanent: true, direction: 'center', className: 'label-district' });
      },
      interactive: false,
    }).addTo(this.#map);
    L.geoJSON(river as GeoJSON.FeatureCollection, { style: () => ({ className: 'geo-river' }), interactive: false }).addTo(this.#map);
    this.#ticketCells = L.layerGroup().addTo(this.#map);
    this.#map.attributionControl.addAttribution(t('map.synthetic'));
    this.#map.fitBounds(this.#bounds());
    this.#legend = new (L.Control.extend({ onAdd: () => L.DomUtil.create('div', 'legend') }))({ position: 'bottomleft' }).addTo(this.#map);
    this.#drawLegend();
    this.#selection = L.layerGroup().addTo(this.#map);
    this.#cluster = L.markerClusterGroup({
      maxClusterRadius: 40,
      disableClusteringAtZoom: 14,
      showCoverageOnHover: false,
      // Rebuilding the clusters for a new filter yields every 25 ms, so typing stays answered.
      chunkedLoading: true,
      chunkInterval: 25,
      chunkDelay: 10,
      iconCreateFunction: (cluster) => {
        const levels = new Set(cluster.getAllChildMarkers().map((m) => (m.options as { level?: string }).level));
        const worst = ['bad', 'warn', 'unheard', 'asleep', 'ok'].find((l) => levels.has(l)) ?? 'ok';
        return L.divIcon({
          html: `<span>${cluster.getChildCount()}</span>`,
          className: `cluster lvl-${worst}`,
          iconSize: L.point(34, 34),
        });
      },
    });
    this.#cluster.on('click', (e) => {
      const id = (e.layer as Leaflet.Marker & { options: { unitId?: string } }).options.unitId;
      if (id) onSelect(id);
    });
    this.#map.addLayer(this.#cluster);
    const zoomed = () => {
      el.classList.toggle('labels', this.#map.getZoom() >= LABEL_ZOOM);
      this.#showAllCells(this.#map.getZoom() >= CELL_ZOOM);
    };
    this.#map.on('zoomend', zoomed);
    zoomed();
  }

  /**
   * The fleet's grid, when it arrives (after the units: hundreds of kB the first render does not
   * wait for): district outlines and labels now, the cells when zoomed in or holding tickets.
   */
  setGrid(grid: GeoJSON.FeatureCollection): void {
    const areas = grid.features as AreaFeature[];
    for (const f of areas) if (f.properties.level === 'cell') this.#cellFeatures.set(f.properties.id, f);
    this.#districts.addData({
      type: 'FeatureCollection',
      features: areas.filter((f) => f.properties.level === 'district'),
    } as GeoJSON.FeatureCollection);
    this.#labelGeo();
    if (!this.#fitted) this.#map.fitBounds(this.#bounds());
    this.setCells([...this.#tickets.values()]);
    this.#showAllCells(this.#map.getZoom() >= CELL_ZOOM);
    if (this.#selectedRow) this.#drawSelection(this.#selectedRow);
  }

  /** The open tickets per cell: the cells holding them coloured by their worst light (few: SVG, styled by class), the rest plain. */
  setCells(cells: readonly CellTickets[]): void {
    this.#tickets = new Map(cells.map((c) => [c.cell, c]));
    this.#ticketCells.clearLayers();
    for (const c of cells) {
      const f = this.#cellFeatures.get(c.cell);
      if (!f) continue;
      const layer = L.geoJSON(f, { style: () => ({ className: `cell-ticket light-${c.light}` }) })
        .bindTooltip(() => this.#cellText(c.cell), { sticky: true })
        .addTo(this.#ticketCells);
      layer.eachLayer((p) => (p as Leaflet.Path).getElement()?.setAttribute('data-cell', c.cell));
    }
  }

  #showAllCells(on: boolean): void {
    if (on && !this.#allCells && this.#cellFeatures.size > 0)
      this.#allCells = L.geoJSON({ type: 'FeatureCollection', features: [...this.#cellFeatures.values()] } as GeoJSON.FeatureCollection, {
        // Leaflet hands the GeoJSON options to every path it makes, the renderer among them (its types omit it).
        ...({ renderer: this.#canvas } as Leaflet.GeoJSONOptions),
        style: () => this.#cellStyle(),
      }).bindTooltip((layer) => this.#cellText((layer as Leaflet.Layer & { feature: AreaFeature }).feature.properties.id), {
        sticky: true,
      });
    if (!this.#allCells) return;
    if (on && !this.#map.hasLayer(this.#allCells)) this.#allCells.addTo(this.#map);
    if (!on && this.#map.hasLayer(this.#allCells)) this.#allCells.remove();
    this.#map.getContainer().classList.toggle('cells', on);
  }

  /** Every cell plain on the canvas: those with tickets are drawn over it by setCells. */
  #cellStyle(): Leaflet.PathOptions {
    return { color: '#6b7b8c', weight: 1, fillOpacity: 0, opacity: 0.8, dashArray: '4 3' };
  }

  #cellText(id: string): string {
    const c = this.#tickets.get(id);
    return esc(c ? t('cell.tickets', { cell: id, n: c.open }) : t('cell.noTickets', { cell: id }));
  }

  #bounds(): Leaflet.LatLngBounds {
    const b = this.#districts.getBounds();
    return b.isValid() ? b : L.latLngBounds([45.3, 126.2], [46.1, 127.2]);
  }

  #drawLegend(): void {
    const el = this.#legend.getContainer();
    if (!el) return;
    const item = (cls: string, key: Key) => `<li><i class="${cls}"></i>${esc(t(key))}</li>`;
    // Folded on a phone, where it would cover most of the map; the choice survives a change of language.
    const open = el.querySelector('details')?.open ?? window.innerWidth > 760;
    el.innerHTML = `<details${open ? ' open' : ''}><summary>${esc(t('legend.summary'))}</summary><b>${esc(t('legend.title'))}</b><ul>${item('cell-red', 'legend.red')}${item('cell-yellow', 'legend.yellow')}${item(
      'cell-green',
      'legend.green',
    )}</ul><b>${esc(t('legend.markers'))}</b><ul>${item('mk-key cause-alarm lvl-bad', 'legend.alarm')}${item(
      'mk-key cause-liveness lvl-bad',
      'legend.liveness',
    )}${item('mk-key cause-power lvl-warn', 'legend.power')}${item('mk-key cause-link lvl-warn', 'legend.link')}${item('mk-key lvl-asleep', 'legend.asleep')}${item(
      'mk-key lvl-unheard',
      'legend.unheard',
    )}${item('mk-key lvl-ok', 'legend.ok')}</ul></details>`;
  }

  /** Units with a marker (placed on the map or not). */
  get size(): number {
    return this.#entries.size;
  }

  /** Creates, moves or restyles the unit's marker; a unit with no position has none. */
  upsert(row: Row, cond: Condition): void {
    const heard = (row.view?.location && positionOf(row.view.location)) ?? null;
    const loc = heard ?? (row.reg?.site ? { lat: row.reg.site.lat, lon: row.reg.site.lon } : null);
    if (!loc) return;
    const at = L.latLng(loc.lat, loc.lon);
    const key = `${cond.level}|${cond.cause}`;
    let e = this.#entries.get(row.id);
    if (!e) {
      const marker = L.marker(at, { icon: icon(row.id, cond), title: row.reg?.site?.name ?? row.id, keyboard: true });
      Object.assign(marker.options, { unitId: row.id, level: cond.level });
      e = { marker, key, shown: false, level: cond.level, track: heard ? [at] : [], placed: !heard };
      this.#entries.set(row.id, e);
      const stored = this.#storedTracks.get(row.id);
      if (stored) this.setTrack(row.id, stored);
      // Opened by its address before its first update arrived: bring it into view now.
      if (this.#selected === row.id) this.select(row);
      return;
    }
    // Drawn at its registered site until it reported a position: that is no part of its track.
    if (e.placed && heard) {
      e.placed = false;
      e.track = [at];
      const stored = this.#storedTracks.get(row.id);
      if (stored) this.setTrack(row.id, stored);
    }
    if (!e.marker.getLatLng().equals(at)) {
      e.marker.setLatLng(at);
      const last = e.track.at(-1);
      if (!last || last.distanceTo(at) >= TRACK_STEP_M) e.track = [...e.track.slice(1 - TRACK_POINTS), at];
      if (this.#selected === row.id) {
        this.#selectedRow = row;
        this.#drawSelection(row);
      }
    }
    if (e.key !== key) {
      e.key = key;
      e.level = cond.level;
      Object.assign(e.marker.options, { level: cond.level });
      e.marker.setIcon(icon(row.id, cond));
      if (e.shown) this.#cluster.refreshClusters(e.marker);
    }
  }

  /** Shows the markers of these units only (the list's filter applies to the map too). */
  show(ids: ReadonlySet<string>): void {
    const add: Leaflet.Marker[] = [];
    const remove: Leaflet.Marker[] = [];
    for (const [id, e] of this.#entries) {
      const want = ids.has(id);
      if (want === e.shown) continue;
      e.shown = want;
      (want ? add : remove).push(e.marker);
    }
    if (remove.length > REBUILD_AT) {
      // Taking hundreds of markers out one by one costs more than rebuilding the clusters, which
      // the plugin does in chunks between frames.
      this.#cluster.clearLayers();
      this.#cluster.addLayers([...this.#entries.values()].filter((e) => e.shown).map((e) => e.marker));
    } else {
      if (remove.length) this.#cluster.removeLayers(remove);
      if (add.length) this.#cluster.addLayers(add);
    }
    if (!this.#fitted && this.#entries.size > 0) {
      this.#fitted = true;
      const b = this.#bounds();
      for (const e of this.#entries.values()) b.extend(e.marker.getLatLng());
      this.#map.fitBounds(b, { padding: [10, 10] });
    }
  }

  /** Highlights one unit (null: none): deployment radius, grid cell, track; brings it into view. */
  select(row: Row | null): void {
    this.#selected = row?.id ?? null;
    this.#selectedRow = row;
    this.#drawSelection(row);
    const e = row ? this.#entries.get(row.id) : undefined;
    // Close enough that the unit is out of any cluster and its site radius reads.
    if (e) this.#map.setView(e.marker.getLatLng(), Math.max(this.#map.getZoom(), SELECTED_ZOOM));
  }

  /**
   * The unit's stored track (oldest first, from the fleet's history), thinned as live points are;
   * positions this page saw since then stay at its end.
   */
  setTrack(id: string, points: readonly TrackPoint[]): void {
    const e = this.#entries.get(id);
    // Asked for as the unit's page opened, before the stream brought the unit: laid when its marker is.
    if (!e || e.placed) {
      this.#storedTracks.set(id, points);
      return;
    }
    this.#storedTracks.delete(id);
    const track: Leaflet.LatLng[] = [];
    for (const p of points) {
      const at = L.latLng(p.lat, p.lon);
      const last = track.at(-1);
      if (!last || last.distanceTo(at) >= TRACK_STEP_M) track.push(at);
    }
    const now = e.marker.getLatLng();
    const last = track.at(-1);
    if (!last || last.distanceTo(now) >= TRACK_STEP_M) track.push(now);
    e.track = track.slice(-TRACK_POINTS);
    if (this.#selected === id) this.#drawSelection(this.#selectedRow);
  }

  relabel(): void {
    this.#labelGeo();
    this.#drawLegend();
    this.#zoom.remove();
    this.#zoom = L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(this.#map);
    this.#map.attributionControl.removeAttribution(t('map.synthetic', {}, 'en')).removeAttribution(t('map.synthetic', {}, 'zh-CN'));
    this.#map.attributionControl.addAttribution(t('map.synthetic'));
  }

  invalidate(): void {
    this.#map.invalidateSize();
  }

  #labelGeo(): void {
    this.#districts.eachLayer((layer) => {
      const p = (layer as Leaflet.Layer & { feature?: AreaFeature }).feature?.properties;
      if (p) layer.setTooltipContent(esc(lang() === 'zh-CN' ? (p.name_zh ?? p.name) : p.name));
    });
  }

  #drawSelection(row: Row | null): void {
    this.#selection.clearLayers();
    if (!row) return;
    const dep = row.view?.outlook.location.deployment ?? (row.reg?.site ? { lat: row.reg.site.lat, lon: row.reg.site.lon } : null);
    if (dep) L.circle([dep.lat, dep.lon], { radius: this.#config.siteRadiusM, className: 'site-radius' }).addTo(this.#selection);
    const cell = row.cell ? this.#cellFeatures.get(row.cell) : undefined;
    if (cell) L.geoJSON(cell, { style: () => ({ className: 'grid-selected' }), interactive: false }).addTo(this.#selection);
    const track = this.#entries.get(row.id)?.track ?? [];
    if (track.length > 1) L.polyline(track, { className: 'track' }).addTo(this.#selection);
  }
}

function icon(id: string, cond: Condition): Leaflet.DivIcon {
  return L.divIcon({
    className: `mk lvl-${cond.level} cause-${cond.cause}`,
    html: `<b data-unit="${esc(id)}"></b><span class="mk-label">${esc(id)}</span>`,
    iconSize: L.point(22, 22),
  });
}
