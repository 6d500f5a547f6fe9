import type { LivenessStatus } from '../../src/domain/liveness.ts';
import { type AtRisk, unitsAtRisk } from '../../src/domain/risk.ts';
import type { UnitView } from '../../src/domain/unit-state.ts';
import geo from '../../src/grid/harbin-districts.geojson';
import { type PowerPoint, powerChart } from './chart.ts';
import { type Geo, MapView, type Marker } from './map.ts';
import css from './style.css';

// With an admin token configured the API needs a bearer token: open the dashboard once as
// /#token=<token> and it is kept in this browser. EventSource cannot send headers, so the
// stream carries it as access_token (accepted on /api/events only).
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  localStorage.setItem('shouwang.token', fromHash);
  history.replaceState(null, '', location.pathname);
}
const token = localStorage.getItem('shouwang.token');

async function loadHistory(id: string): Promise<void> {
  const res = await fetch(`/api/units/${encodeURIComponent(id)}/history/power`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) return;
  histories.set(id, ((await res.json()) as { points: PowerPoint[] }).points);
  schedule();
}

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);

const units = new Map<string, UnitView>();
/** Units whose chart is open, and their last fetched history. */
const charted = new Set<string>();
const histories = new Map<string, PowerPoint[]>();
const map = new MapView(document.getElementById('map') as unknown as SVGSVGElement, geo as Geo);
const cards = document.getElementById('cards') as HTMLElement;
let mapFitted = false;

const LOW = 40;
const CRITICAL = 15;

const RISK_HORIZON_H = 48;

const LIVENESS_LABEL: Record<LivenessStatus, string> = {
  online: 'online',
  restarting: 'restarting',
  'on-schedule': 'asleep',
  late: 'late',
  missing: 'missing',
  'presumed-out-of-power': 'out of power',
};

function colour(u: UnitView): string {
  switch (u.liveness.status) {
    case 'online':
      return u.power && u.power.soc < LOW ? '#d29922' : '#3fb950';
    case 'restarting':
    case 'on-schedule':
      return '#58a6ff';
    case 'late':
    case 'missing':
    case 'presumed-out-of-power':
      return '#f85149';
  }
}

function hours(h: number | null): string {
  if (h === null) return '—';
  if (h < 1) return `${Math.round(h * 60)} min`;
  if (h < 48) return `${h.toFixed(1)} h`;
  return `${(h / 24).toFixed(1)} d`;
}

function distance(m: number | null): string {
  if (m === null) return '';
  // Below GNSS wander on a parked unit, a distance is noise.
  if (m < 50) return 'at site';
  return m < 1000 ? `${Math.round(m)} m from site` : `${(m / 1000).toFixed(2)} km from site`;
}

function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function ago(ts: number | null): string {
  return ts === null ? 'never' : `${span(Date.now() - ts)} ago`;
}

function until(ts: number): string {
  const d = ts - Date.now();
  return d >= 0 ? `in ${span(d)}` : `${span(-d)} overdue`;
}

function bars(n: number): string {
  return `${'▮'.repeat(n)}<b>${'▯'.repeat(5 - n)}</b>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function trend(pctH: number | null): string {
  if (pctH === null) return '';
  return ` <span class="dim">(${pctH > 0 ? '+' : ''}${pctH.toFixed(1)} %/h)</span>`;
}

function riskRow(r: AtRisk): string {
  const why =
    r.reason === 'battery'
      ? `battery empty in ${hours(r.hoursLeft)}`
      : r.reason === 'data-budget'
        ? r.hoursLeft > 0
          ? `data budget spent in ${hours(r.hoursLeft)}`
          : 'data budget spent'
        : LIVENESS_LABEL[r.reason];
  return `<li data-unit="${esc(r.id)}" class="${r.reason}"><b>${esc(r.id)}</b> ${why}${r.soc !== null ? ` · ${r.soc.toFixed(0)} %` : ''}</li>`;
}

/** The last commissioning run: when, and which checks failed (the CLI and API have the details). */
function commissioned(u: UnitView): string {
  const c = u.commissioning;
  if (!c) return '<dt>commissioned</dt><dd data-field="commissioning" class="dim">not yet</dd>';
  const when = new Date(c.at).toISOString().slice(0, 16).replace('T', ' ');
  return `<dt>commissioned</dt><dd data-field="commissioning" class="${c.passed ? 'pass' : 'fail'}">${
    c.passed ? `✓ all checks passed` : `✗ failed: ${c.failed.map(esc).join(', ')}`
  } <span class="dim">${when} UTC</span></dd>`;
}

/** This month's data against the plan, with the month-end forecast; flagged when it will not last. */
function dataUse(u: UnitView): string {
  const l = u.outlook.link;
  if (l.bytesMonth === null || l.budgetBytes === null) return '';
  const over = l.budgetHoursLeft !== null;
  return `<dt>data</dt><dd data-field="data" class="${over ? 'over' : ''}">${megabytes(l.bytesMonth)} of ${megabytes(l.budgetBytes)}${
    l.bytesMonthForecast !== null ? ` <span class="dim">· month end ${megabytes(l.bytesMonthForecast)}</span>` : ''
  }${over ? ' · <b>over budget</b>' : ''}</dd>`;
}

function megabytes(b: number): string {
  return b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${Math.round(b / 1e3)} kB`;
}

function card(u: UnitView): string {
  const p = u.power;
  const soc = p ? p.soc : 0;
  const level = soc < CRITICAL ? 'critical' : soc < LOW ? 'low' : '';
  const cls = ['card', u.online ? '' : 'offline', u.liveness.status, u.online && soc < LOW ? 'low' : ''].join(' ');
  const linkLabel = u.link
    ? `${u.link.type === 'nr' ? '5G' : u.link.type === 'lte' ? '4G' : u.link.type} ${bars(u.link.bars ?? 0)} ${u.link.rssiDbm ?? '?'} dBm`
    : '—';
  return `<article class="${cls}" data-unit="${esc(u.id)}">
  <h2>${esc(u.id)} <span class="badge ${u.liveness.status}" data-field="liveness">${LIVENESS_LABEL[u.liveness.status]}</span></h2>
  ${p ? `<div class="bar ${level}" title="battery"><i style="width:${soc.toFixed(0)}%"></i></div>` : ''}
  <dl>
    <dt>battery</dt><dd data-field="soc">${p ? `${soc.toFixed(0)} %  ${p.batteryV.toFixed(2)} V` : '—'}</dd>
    <dt>harvest</dt><dd>${p ? `☀ ${p.solarW.toFixed(1)} W  ≋ ${p.windW.toFixed(1)} W` : '—'}</dd>
    <dt>load</dt><dd>${p ? `${p.loadW.toFixed(1)} W` : '—'}</dd>
    <dt>power</dt><dd>${p ? esc(p.state) : '—'}</dd>
    <dt>empty in</dt><dd data-field="tte">${hours(u.outlook.power.timeToEmptyH)}${trend(u.liveness.socTrendPctH)}</dd>
    <dt>link</dt><dd class="bars">${linkLabel}</dd>
    ${dataUse(u)}
    <dt>location</dt><dd>${u.location?.lat !== undefined && u.location.lon !== undefined ? `${u.location.lat.toFixed(5)}, ${u.location.lon.toFixed(5)}` : '—'}</dd>
    ${u.outlook.location.distanceM !== null ? `<dt></dt><dd data-field="moved">${distance(u.outlook.location.distanceM)}${u.outlook.location.moving ? ' · <b class="moving">moving</b>' : ''}</dd>` : ''}
    <dt>history</dt><dd><button type="button" class="chart-toggle" data-unit="${esc(u.id)}">${charted.has(u.id) ? 'hide' : 'show'} chart</button></dd>
    ${commissioned(u)}
    <dt>last seen</dt><dd data-field="seen" data-ts="${u.lastSeen ?? ''}">${ago(u.lastSeen)}</dd>
    ${u.liveness.dueBy !== null && !u.online ? `<dt>due</dt><dd data-field="due" data-ts="${u.liveness.dueBy}">${until(u.liveness.dueBy)}</dd>` : ''}
  </dl>
  ${charted.has(u.id) ? `<div class="history" data-unit="${esc(u.id)}">${powerChart(histories.get(u.id) ?? [])}</div>` : ''}
</article>`;
}

const filter = document.getElementById('filter') as HTMLInputElement;
const sort = document.getElementById('sort') as HTMLSelectElement;
const risk = document.getElementById('risk') as HTMLElement;

const SORTS: Record<string, (a: UnitView, b: UnitView) => number> = {
  id: (a, b) => a.id.localeCompare(b.id),
  battery: (a, b) => (a.power?.soc ?? -1) - (b.power?.soc ?? -1) || a.id.localeCompare(b.id),
  liveness: (a, b) => LIVENESS_ORDER.indexOf(b.liveness.status) - LIVENESS_ORDER.indexOf(a.liveness.status) || a.id.localeCompare(b.id),
};
const LIVENESS_ORDER: LivenessStatus[] = ['online', 'restarting', 'on-schedule', 'late', 'missing', 'presumed-out-of-power'];

function render(): void {
  const all = [...units.values()].sort(SORTS.id);
  const markers: Marker[] = all.flatMap((u) =>
    u.location?.lat !== undefined && u.location.lon !== undefined
      ? [{ id: u.id, lat: u.location.lat, lon: u.location.lon, colour: colour(u) }]
      : [],
  );
  if (!mapFitted && markers.length > 0) {
    map.draw(markers);
    mapFitted = true;
  }
  map.update(markers);
  const q = filter.value.trim().toLowerCase();
  const shown = all
    .filter((u) => !q || u.id.toLowerCase().includes(q) || LIVENESS_LABEL[u.liveness.status].includes(q))
    .sort(SORTS[sort.value] ?? SORTS.id);
  cards.innerHTML = shown.map(card).join('');
  const atRisk = unitsAtRisk(all, RISK_HORIZON_H);
  risk.innerHTML = `<h2>At risk in the next ${RISK_HORIZON_H} h <span class="count">${atRisk.length}</span></h2>${
    atRisk.length ? `<ol>${atRisk.map(riskRow).join('')}</ol>` : '<p class="dim">No unit expected to go dark.</p>'
  }`;
  const online = all.filter((u) => u.online).length;
  const low = all.filter((u) => u.online && u.power && u.power.soc < LOW).length;
  (document.getElementById('summary') as HTMLElement).textContent =
    `${all.length} units · ${online} online · ${all.length - online} offline · ${low} low battery · ${atRisk.length} at risk`;
}
filter.addEventListener('input', () => render());
cards.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.chart-toggle');
  const id = button?.dataset.unit;
  if (!id) return;
  if (charted.delete(id)) return render();
  charted.add(id);
  render();
  void loadHistory(id);
});
sort.addEventListener('change', () => render());

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
const events = new EventSource(token ? `/api/events?access_token=${encodeURIComponent(token)}` : '/api/events');
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
  for (const dd of document.querySelectorAll<HTMLElement>('[data-field="due"]')) dd.textContent = until(Number(dd.dataset.ts));
}, 1000);
// Open charts follow new readings at a pace the history store is written at.
setInterval(() => {
  for (const id of charted) void loadHistory(id);
}, 10_000);
