import type { FeatureCollection } from 'geojson';
import leafletCss from 'leaflet/dist/leaflet.css';
import clusterCss from 'leaflet.markercluster/dist/MarkerCluster.css';
import { type AtRisk, unitsAtRisk } from '../src/domain/risk.ts';
import { Grid } from '../src/grid/grid.ts';
import { createApi } from './api.ts';
import { CampaignViews } from './campaigns.ts';
import { CardList } from './cards.ts';
import { mountClaim } from './claim.ts';
import { type Condition, condition, worse } from './condition.ts';
import { DeadLetters } from './dead-letters.ts';
import { UnitPage } from './detail.ts';
import type { FieldContext } from './fields.ts';
import river from './harbin.geojson';
import { esc } from './html.ts';
import { LANGS, type Lang, lang, onLangChange, setLang, t, translateStatic } from './i18n.ts';
import { LivePlayer } from './live-player.ts';
import { mountLoopViews } from './loop-views.ts';
import { FleetMap, type Geo } from './map.ts';
import { type DashboardConfig, Fleet, type RegistryEntry, type Row, type Session } from './model.ts';
import { type Route, route } from './router.ts';
import { check, signIn, signOut, storedToken } from './session.ts';
import { openStream, type StreamState } from './stream.ts';
import css from './style.css';
import { fleetNow, setFleetClock, setTimeZone } from './time.ts';

/**
 * The command dashboard's composition: sign-in, then one live model of the fleet (stream +
 * registry) feeding keyed views — the map, the unit list, the unit page — once per animation
 * frame with only the units that changed. Views are modules behind a hash route (#/, #/unit/<id>,
 * #/claim) so alarms, tickets and video can join as further routes.
 */
const RISK_HORIZON_H = 48;
/** Ages ("4 min ago") are refreshed on this beat; readings patch their card at once. */
const AGE_TICK_MS = 5000;
/**
 * Cards listed at once, in the chosen order (worst first finds the ones that matter); more on
 * request. The map shows every match. A thousand cards laid out at once cost a commander's
 * keystroke ~100 ms of style and layout on a slow machine; a hundred do not.
 */
const LIST_PAGE = 100;
let listed = LIST_PAGE;

const style = document.createElement('style');
style.textContent = `${leafletCss}\n${clusterCss}\n${css}`;
document.head.append(style);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const langSelect = $<HTMLSelectElement>('lang');
langSelect.innerHTML = LANGS.map((l) => `<option value="${l}">${t(`lang.${l}`)}</option>`).join('');
langSelect.value = lang();
langSelect.addEventListener('change', () => setLang(langSelect.value as Lang));
translateStatic(document);

// Before the first await: a /#token=… link is read before anything (a click, a route) can change the address.
let token = storedToken();
const config = await loadConfig($('signin'));
setTimeZone(config.timeZone);
setFleetClock(config.clock);

let session: Session;
const signinRoot = $('signin');
{
  let r = await check(token);
  while (!r.ok) {
    const signed = await signIn(signinRoot, r.reason);
    token = signed.token;
    r = { ok: true, session: signed.session };
  }
  session = r.session;
}

const api = createApi(() => token);
const fleet = new Fleet();
const ctx = (): FieldContext => ({ now: fleetNow(), siteRadiusM: config.siteRadiusM });
const map = new FleetMap($('map'), river as Geo, config, (id) => {
  location.hash = `#/unit/${encodeURIComponent(id)}`;
});
const cards = new CardList($('cards'), (id) => {
  location.hash = `#/unit/${encodeURIComponent(id)}`;
});
const unitPage = new UnitPage($('unit-view'), { api, session: () => session, ctx, live: $('live-view') });
const loopViews = mountLoopViews({ api, token: () => token, session: () => session, header: $('top'), side: $('side') });
const deadLetters = new DeadLetters($('side'), document.querySelector('#list-view .tools'), api, () => session);
const livePlayer = new LivePlayer($('live-view'), { api, token: () => token, session: () => session });

function showWho(): void {
  // The configured admin token's name is the fleet's, not a person's: say what it is instead.
  const name = session.tokenId === 'bootstrap' ? t('role.bootstrap') : (session.name ?? '');
  $('role').textContent = session.role ? `${name} · ${t(`role.${session.role}`)}` : t('role.none');
  $('signout').textContent = token ? t('signin.out') : t('signin.submit');
}
showWho();
$('signout').addEventListener('click', () => {
  if (!token) {
    void signIn(signinRoot, 'required').then(() => location.reload());
    return;
  }
  signOut();
  location.hash = '#/';
  location.reload();
});

$('claim-link').addEventListener('click', () => {
  location.hash = '#/claim';
});
const campaigns = new CampaignViews($('side'), api, () => session);
$('claim-link').after(campaigns.navButton());

const conn = $('conn');
const filter = $<HTMLInputElement>('filter');
const sort = $<HTMLSelectElement>('sort');
const SORTS: Record<string, (a: Row, b: Row) => number> = {
  id: (a, b) => a.id.localeCompare(b.id),
  battery: (a, b) => (a.view?.power?.soc ?? -1) - (b.view?.power?.soc ?? -1) || a.id.localeCompare(b.id),
  worst: (a, b) => worse(conditionOf(a), conditionOf(b)) || a.id.localeCompare(b.id),
  seen: (a, b) => (a.view?.lastSeen ?? 0) - (b.view?.lastSeen ?? 0) || a.id.localeCompare(b.id),
};

function matches(row: Row, q: string): boolean {
  if (!q) return true;
  const u = row.view;
  const words = [
    row.id,
    row.reg?.site?.name ?? '',
    row.cell ?? '',
    u ? t(`liveness.${u.liveness.status}`, { version: u.liveness.restartingInto ?? '' }) : t('status.never-heard'),
    u?.power ? t(`rung.${u.power.state}`) : '',
  ];
  return words.some((w) => w.toLowerCase().includes(q));
}

/** Each unit's condition, kept until its row changes: the sort and the summary read it for every unit. */
let conditions = new Map<string, Condition>();
function conditionOf(row: Row): Condition {
  let c = conditions.get(row.id);
  if (!c) {
    c = condition(row);
    conditions.set(row.id, c);
  }
  return c;
}

let arrangeAll = true;
let lastRisk = '';
let lastSummary = '';

function frame(): void {
  const changed = fleet.takeDirty();
  const c = ctx();
  const before = cards.size;
  const markersBefore = map.size;
  for (const id of changed) {
    const row = fleet.rows.get(id);
    if (!row) continue;
    conditions.delete(id);
    const cond = conditionOf(row);
    cards.upsert(row, c, cond);
    map.upsert(row, cond);
    unitPage.update(row);
  }
  if (changed.length === 0 && !arrangeAll) return;
  const q = filter.value.trim().toLowerCase();
  // By id and unfiltered, readings never move a card: only new cards and new markers (a unit's
  // first position, its card already listed) need placing.
  const rearrange = arrangeAll || cards.size !== before || map.size !== markersBefore || q !== '' || sort.value !== 'id';
  arrangeAll = false;
  const all = [...fleet.rows.values()];
  if (rearrange) arrange(all, q);
  summarize(all);
}

function arrange(all: Row[], q: string): void {
  const shown = all.filter((r) => matches(r, q)).sort(SORTS[sort.value] ?? SORTS.id);
  // A card hidden while its unit's ages ticked on is brought up to date as it is shown.
  const c = ctx();
  for (const id of cards.arrange(shown.slice(0, listed).map((r) => r.id))) {
    const row = fleet.rows.get(id);
    if (row) cards.upsert(row, c, conditionOf(row));
  }
  showOnMap(new Set(shown.map((r) => r.id)));
  const empty = $('empty');
  empty.hidden = shown.length > 0;
  if (!empty.hidden) empty.textContent = t(all.length === 0 ? 'list.none' : 'list.noMatch');
  const more = $('more');
  more.hidden = shown.length <= listed;
  if (!more.hidden)
    more.textContent = t('list.more', { shown: listed, total: shown.length, n: Math.min(LIST_PAGE, shown.length - listed) });
}

/**
 * The map follows the list once typing pauses: re-clustering a thousand markers per keystroke
 * would hold up the list's answer to that keystroke. Stream updates (no typing) apply at once.
 */
const MAP_FOLLOW_MS = 150;
let mapTimer: ReturnType<typeof setTimeout> | undefined;
let typing = false;
function showOnMap(ids: ReadonlySet<string>): void {
  clearTimeout(mapTimer);
  if (!typing) {
    map.show(ids);
    return;
  }
  mapTimer = setTimeout(() => {
    typing = false;
    map.show(ids);
  }, MAP_FOLLOW_MS);
}

function summarize(all: Row[]): void {
  const views = all.flatMap((r) => (r.view ? [r.view] : []));
  const atRisk = unitsAtRisk(views, RISK_HORIZON_H);
  const risk = riskHtml(atRisk);
  if (risk !== lastRisk) $('risk').innerHTML = lastRisk = risk;
  const online = views.filter((u) => u.online).length;
  const dark = views.filter((u) => ['late', 'missing', 'presumed-out-of-power'].includes(u.liveness.status)).length;
  const low = all.filter((r) => conditionOf(r).cause === 'power').length;
  const summary = t('summary', { total: all.length, online, dark, low, risk: atRisk.length, unheard: all.length - views.length });
  if (summary !== lastSummary) $('summary').textContent = lastSummary = summary;
}

function riskHtml(atRisk: AtRisk[]): string {
  const row = (r: AtRisk) => {
    const why =
      r.reason === 'battery'
        ? t('risk.battery', { h: hoursText(r.hoursLeft) })
        : r.reason === 'data-budget'
          ? r.hoursLeft > 0
            ? t('risk.data', { h: hoursText(r.hoursLeft) })
            : t('risk.dataSpent')
          : t(`liveness.${r.reason}`);
    const id = esc(r.id);
    return `<li data-unit="${id}" class="${r.reason}"><a href="#/unit/${id}"><b>${id}</b> ${why}${r.soc !== null ? ` · ${r.soc.toFixed(0)} %` : ''}</a></li>`;
  };
  return `<h2>${t('risk.title', { h: RISK_HORIZON_H })} <span class="count">${atRisk.length}</span></h2>${
    atRisk.length ? `<ol>${atRisk.map(row).join('')}</ol>` : `<p class="dim">${t('risk.none')}</p>`
  }`;
}

function hoursText(h: number): string {
  return h < 1
    ? t('time.min', { n: Math.round(h * 60) })
    : h < 48
      ? t('time.h', { n: h.toFixed(1) })
      : t('time.d', { n: (h / 24).toFixed(1) });
}

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    frame();
  });
}

filter.addEventListener('input', () => {
  typing = true;
  listed = LIST_PAGE;
  arrangeAll = true;
  schedule();
});
sort.addEventListener('change', () => {
  listed = LIST_PAGE;
  arrangeAll = true;
  schedule();
});
$('more').addEventListener('click', () => {
  listed += LIST_PAGE;
  arrangeAll = true;
  schedule();
});

function show(r: Route): void {
  const main = document.querySelector('main') as HTMLElement;
  main.dataset.view = r.view;
  // Set aside, not hidden: the list keeps its layout while a unit is open, so coming back is cheap.
  $('list-view').classList.toggle('aside', r.view !== 'list');
  $('unit-view').hidden = r.view !== 'unit';
  $('claim-view').hidden = r.view !== 'claim';
  deadLetters.show(r.view === 'dead-letters');
  livePlayer.show(r.view === 'unit' ? r.id : null);
  if (r.view === 'unit') {
    const row = fleet.rows.get(r.id) ?? { id: r.id, view: null, reg: null, cell: null };
    if (unitPage.current !== r.id) unitPage.open(row);
    map.select(row);
    void loadTrack(r.id);
  } else {
    unitPage.close();
    map.select(null);
  }
  campaigns.show(r.view === 'campaigns' || r.view === 'campaign' ? r : null);
  if (r.view === 'claim')
    mountClaim(
      $('claim-view'),
      api,
      () => session,
      () => void loadRegistry(),
    );
  loopViews.show(r);
  map.invalidate();
}
route(show);

onLangChange(() => {
  conditions = new Map();
  translateStatic(document);
  deadLetters.refresh();
  if (conn.dataset.state) conn.textContent = t(`conn.${conn.dataset.state as StreamState}`);
  langSelect.value = lang();
  showWho();
  cards.relabel();
  map.relabel();
  unitPage.relabel();
  campaigns.relabel();
  loopViews.relabel();
  livePlayer.relabel();
  fleet.markAll();
  arrangeAll = true;
  schedule();
});

/** The grid tickets are routed on: each unit's cell is looked up in it; until it comes (or without it) the cards name none. */
async function loadGrid(): Promise<void> {
  try {
    const grid = await api.get<FeatureCollection>('/api/dashboard/grid');
    fleet.setGrid(new Grid(grid, ''));
    map.setGrid(grid);
    schedule();
  } catch {
    // The units, their markers and alarms stand without it; a reload asks again.
  }
}

/** Where the unit has been (the fleet's stored positions): the track survives a reload. */
async function loadTrack(id: string): Promise<void> {
  try {
    const h = await api.get<{ points: { ts: number; lat: number; lon: number }[] }>(
      `/api/units/${encodeURIComponent(id)}/history/location`,
    );
    map.setTrack(id, h.points);
  } catch {
    // No history to hand: the track grows from the positions this page sees.
  }
}

async function loadRegistry(): Promise<void> {
  try {
    fleet.setRegistry((await api.get<{ units: RegistryEntry[] }>('/api/registry/units')).units);
    schedule();
  } catch {
    // Registry entries only add site names and never-heard units; the live view stands without them.
  }
}

openStream(token, {
  unit(u) {
    fleet.setView(u);
    schedule();
  },
  cells: (c) => map.setCells(c),
  clock: setFleetClock,
  loop: loopViews.push,
  state(s) {
    conn.textContent = t(`conn.${s}`);
    conn.dataset.state = s;
    if (s === 'reconnecting')
      void check(token).then((r) => {
        // A token revoked while the page was open: back to the sign-in screen, saying why.
        if (!r.ok && r.reason !== 'unreachable') {
          signOut();
          location.reload();
        }
      });
  },
});
void loadRegistry();
void loadGrid();
// Ages move on for the cards on the list and the open unit only: a hidden card catches up when shown.
setInterval(() => {
  fleet.mark([...cards.shown(), ...(unitPage.current ? [unitPage.current] : [])]);
  schedule();
}, AGE_TICK_MS);

/**
 * The page's settings, asked for until the fleet answers: a fleet restarting or a link dropping
 * at the first request shows why and when it tries again, never a blank page.
 */
async function loadConfig(root: HTMLElement): Promise<DashboardConfig> {
  const RETRY_S = 5;
  for (;;) {
    let why: string;
    try {
      const res = await fetch('/api/dashboard/config');
      if (res.ok) {
        root.hidden = true;
        root.replaceChildren();
        return (await res.json()) as DashboardConfig;
      }
      why = `HTTP ${res.status}`;
    } catch (err) {
      why = (err as Error).message;
    }
    root.hidden = false;
    root.innerHTML = `<div class="signin start-failed" role="alert"><p class="refused">${esc(t('start.configFailed', { why, s: RETRY_S }))}</p><button type="button" class="primary">${esc(t('start.retry'))}</button></div>`;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RETRY_S * 1000);
      root.querySelector('button')?.addEventListener('click', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
