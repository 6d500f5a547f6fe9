import { positionOf } from '@shouwang/protocol';
import type * as Leaflet from 'leaflet';
import L from './leaflet-global.ts';
import 'leaflet.markercluster';
import type { Condition } from './condition.ts';
import { esc } from './html.ts';
import { lang, t } from './i18n.ts';
import type { DashboardConfig, Row } from './model.ts';

/**
 * The command map: Leaflet, bundled and served by the fleet (no CDN), over the shipped GeoJSON of
 * Harbin (synthetic outlines of the districts, the Songhua and a block of grid cells) or an
 * operator's own tile server. Units are markers clustered when they crowd, coloured and shaped by
 * their worst condition; a click opens the unit. The selected unit shows its deployment radius,
 * its grid cell and the track of the positions this page has seen.
 */
interface GeoFeature {
  type: 'Feature';
  properties: { name: string; name_zh: string; level: 'district' | 'river' | 'grid-cell' };
  geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'LineString'; coordinates: number[][] };
}
export interface Geo {
  type: 'FeatureCollection';
  features: GeoFeature[];
}

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
const SELECTED_ZOOM = 15;
/** Beyond this many markers hidden at once the clusters are rebuilt instead. */
const REBUILD_AT = 100;

export class FleetMap {
  readonly #map: Leaflet.Map;
  readonly #cluster: Leaflet.MarkerClusterGroup;
  readonly #entries = new Map<string, Entry>();
  readonly #geo: Leaflet.GeoJSON;
  readonly #selection: Leaflet.LayerGroup;
  readonly #config: DashboardConfig;
  #zoom: Leaflet.Control.Zoom;
  #fitted = false;
  #selected: string | null = null;

  constructor(el: HTMLElement, geo: Geo, config: DashboardConfig, onSelect: (id: string) => void) {
    this.#config = config;
    this.#map = L.map(el, { zoomSnap: 0.5, minZoom: 7, maxZoom: config.tiles.maxZoom, zoomControl: false });
    this.#zoom = L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(this.#map);
    this.#map.attributionControl.setPrefix(false);
    if (config.tiles.url) {
      L.tileLayer(config.tiles.url, { maxZoom: config.tiles.maxZoom, attribution: esc(config.tiles.attribution) }).addTo(this.#map);
    }
    this.#geo = L.geoJSON(geo as GeoJSON.FeatureCollection, {
      style: (feature) => ({ className: `geo-${(feature?.properties as GeoFeature['properties'] | undefined)?.level ?? 'district'}` }),
      onEachFeature: (feature, layer) => {
        const p = feature.properties as GeoFeature['properties'];
        if (p.level === 'river') return;
        layer.bindTooltip('', { permanent: true, direction: 'center', className: `label-${p.level}` });
      },
      interactive: false,
    }).addTo(this.#map);
    this.#labelGeo();
    this.#map.attributionControl.addAttribution(t('map.synthetic'));
    this.#map.fitBounds(this.#geo.getBounds());
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
    const labels = () => el.classList.toggle('labels', this.#map.getZoom() >= LABEL_ZOOM);
    this.#map.on('zoomend', labels);
    labels();
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
      // Opened by its address before its first update arrived: bring it into view now.
      if (this.#selected === row.id) this.select(row);
      return;
    }
    // Drawn at its registered site until it reported a position: that is no part of its track.
    if (e.placed && heard) {
      e.placed = false;
      e.track = [at];
    }
    if (!e.marker.getLatLng().equals(at)) {
      e.marker.setLatLng(at);
      const last = e.track.at(-1);
      if (!last || last.distanceTo(at) >= TRACK_STEP_M) e.track = [...e.track.slice(1 - TRACK_POINTS), at];
      if (this.#selected === row.id) this.#drawSelection(row);
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
      const b = this.#geo.getBounds();
      for (const e of this.#entries.values()) b.extend(e.marker.getLatLng());
      this.#map.fitBounds(b, { padding: [10, 10] });
    }
  }

  /** Highlights one unit (null: none): deployment radius, grid cell, track; brings it into view. */
  select(row: Row | null): void {
    this.#selected = row?.id ?? null;
    this.#drawSelection(row);
    const e = row ? this.#entries.get(row.id) : undefined;
    // Close enough that the unit is out of any cluster and its site radius reads.
    if (e) this.#map.setView(e.marker.getLatLng(), Math.max(this.#map.getZoom(), SELECTED_ZOOM));
  }

  relabel(): void {
    this.#labelGeo();
    this.#zoom.remove();
    this.#zoom = L.control.zoom({ zoomInTitle: t('map.zoomIn'), zoomOutTitle: t('map.zoomOut') }).addTo(this.#map);
    this.#map.attributionControl.removeAttribution(t('map.synthetic', {}, 'en')).removeAttribution(t('map.synthetic', {}, 'zh-CN'));
    this.#map.attributionControl.addAttribution(t('map.synthetic'));
  }

  invalidate(): void {
    this.#map.invalidateSize();
  }

  #labelGeo(): void {
    this.#geo.eachLayer((layer) => {
      const p = (layer as Leaflet.Layer & { feature?: GeoFeature }).feature?.properties;
      if (p && p.level !== 'river') layer.setTooltipContent(lang() === 'zh-CN' ? p.name_zh : p.name);
    });
  }

  #drawSelection(row: Row | null): void {
    this.#selection.clearLayers();
    if (!row) return;
    const dep = row.view?.outlook.location.deployment ?? (row.reg?.site ? { lat: row.reg.site.lat, lon: row.reg.site.lon } : null);
    if (dep) L.circle([dep.lat, dep.lon], { radius: this.#config.siteRadiusM, className: 'site-radius' }).addTo(this.#selection);
    const cell = row.reg?.gridCell;
    if (cell) {
      this.#geo.eachLayer((layer) => {
        const f = (layer as Leaflet.Layer & { feature?: GeoFeature }).feature;
        if (f?.properties.level === 'grid-cell' && f.properties.name === cell && f.geometry.type === 'Polygon')
          L.polygon(
            f.geometry.coordinates.map((ring) => ring.map(([lon, lat]) => [lat, lon] as [number, number])),
            { className: 'grid-selected' },
          ).addTo(this.#selection);
      });
    }
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
