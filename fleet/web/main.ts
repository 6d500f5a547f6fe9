import type { Link, Location, Power, Presence } from '@shouwang/protocol';
import geo from './harbin.geojson';
import { type Geo, MapView, type Marker } from './map.ts';
import css from './style.css';

/** The shape GET /api/units and the SSE `unit` events carry (fleet/src/domain/unit-state.ts). */
interface UnitView {
  id: string;
  online: boolean;
  lastSeen: number | null;
  presence: Presence | null;
  power: Power | null;
  location: Location | null;
  link: Link | null;
}

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);

const units = new Map<string, UnitView>();
const map = new MapView(document.getElementById('map') as unknown as SVGSVGElement, geo as Geo);
const cards = document.getElementById('cards') as HTMLElement;
let mapFitted = false;

const LOW = 40;
const CRITICAL = 15;

function colour(u: UnitView): string {
  if (!u.online) return '#f85149';
  if (u.power && u.power.soc < LOW) return '#d29922';
  return '#3fb950';
}

function ago(ts: number | null): string {
  if (ts === null) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function bars(n: number): string {
  return `${'▮'.repeat(n)}<b>${'▯'.repeat(5 - n)}</b>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function card(u: UnitView): string {
  const p = u.power;
  const soc = p ? p.soc : 0;
  const level = soc < CRITICAL ? 'critical' : soc < LOW ? 'low' : '';
  const cls = ['card', u.online ? '' : 'offline', u.online && soc < LOW ? 'low' : ''].join(' ');
  const linkLabel = u.link
    ? `${u.link.type === 'nr' ? '5G' : u.link.type === 'lte' ? '4G' : u.link.type} ${bars(u.link.bars)} ${u.link.rssiDbm} dBm`
    : '—';
  return `<article class="${cls}" data-unit="${esc(u.id)}">
  <h2>${esc(u.id)} <span class="badge ${u.online ? 'online' : 'offline'}">${u.online ? 'online' : 'offline'}</span></h2>
  ${p ? `<div class="bar ${level}" title="battery"><i style="width:${soc.toFixed(0)}%"></i></div>` : ''}
  <dl>
    <dt>battery</dt><dd data-field="soc">${p ? `${soc.toFixed(0)} %  ${p.batteryV.toFixed(2)} V` : '—'}</dd>
    <dt>harvest</dt><dd>${p ? `☀ ${p.solarW.toFixed(1)} W  ≋ ${p.windW.toFixed(1)} W` : '—'}</dd>
    <dt>load</dt><dd>${p ? `${p.loadW.toFixed(1)} W` : '—'}</dd>
    <dt>power</dt><dd>${p ? esc(p.state) : '—'}</dd>
    <dt>link</dt><dd class="bars">${linkLabel}</dd>
    <dt>location</dt><dd>${u.location ? `${u.location.lat.toFixed(5)}, ${u.location.lon.toFixed(5)}` : '—'}</dd>
    <dt>last seen</dt><dd data-field="seen" data-ts="${u.lastSeen ?? ''}">${ago(u.lastSeen)}</dd>
  </dl>
</article>`;
}

function render(): void {
  const list = [...units.values()].sort((a, b) => a.id.localeCompare(b.id));
  const markers: Marker[] = list.flatMap((u) =>
    u.location ? [{ id: u.id, lat: u.location.lat, lon: u.location.lon, colour: colour(u) }] : [],
  );
  if (!mapFitted && markers.length > 0) {
    map.draw(markers);
    mapFitted = true;
  }
  map.update(markers);
  cards.innerHTML = list.map(card).join('');
  const online = list.filter((u) => u.online).length;
  const low = list.filter((u) => u.online && u.power && u.power.soc < LOW).length;
  (document.getElementById('summary') as HTMLElement).textContent =
    `${list.length} units · ${online} online · ${list.length - online} offline · ${low} low battery`;
}

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

const conn = document.getElementById('conn') as HTMLElement;
const events = new EventSource('/api/events');
events.addEventListener('open', () => {
  conn.textContent = 'live';
  conn.classList.add('live');
});
events.addEventListener('error', () => {
  conn.textContent = 'reconnecting…';
  conn.classList.remove('live');
});
events.addEventListener('unit', (e) => {
  const u = JSON.parse((e as MessageEvent<string>).data) as UnitView;
  units.set(u.id, u);
  schedule();
});

map.draw([]);
setInterval(() => {
  for (const dd of document.querySelectorAll<HTMLElement>('[data-field="seen"]')) {
    const ts = Number(dd.dataset.ts);
    dd.textContent = ago(Number.isFinite(ts) && ts > 0 ? ts : null);
  }
}, 1000);
