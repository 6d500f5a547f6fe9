/**
 * What the map lays over the units, in a real headless Chromium: the grid tickets are routed on
 * (the fleet's own, served to the page: the card's cell is the ticket's cell), cells coloured by
 * their open tickets, a standing alarm as the marker's worst condition (raised: the alarm kind;
 * cleared: back), and relative times counted on the fleet's clock, which under --time-scale runs
 * faster than the browser's. Screenshots: test-artifacts/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alarm, Power } from '@shouwang/protocol';
import type { FeatureCollection } from 'geojson';
import { SAMPLE_GRID } from '../src/alarms/loop.ts';
import { Grid } from '../src/grid/grid.ts';
import { readJsonFile } from '../src/json-file.ts';
import { DESKTOP, openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'overlay-admin-token';
const AT = { lat: 45.7612, lon: 126.6351 };
const grid = new Grid(readJsonFile(SAMPLE_GRID, 'grid') as FeatureCollection, 'city');

const power = (seq: number, soc: number, ts: number): Power => ({
  seq,
  ts,
  soc,
  batteryV: 13.1,
  solarW: 12,
  windW: 2,
  loadW: 5,
  state: 'full',
});
const tamper = (seq: number, state: Alarm['state']): Alarm => ({
  seq,
  ts: Date.now(),
  id: 'tamper-1',
  kind: 'tamper',
  severity: 'major',
  state,
  ...AT,
});

test('one grid: the card names the ticket cell; a cell with an open ticket is coloured; a tamper makes the marker the alarm kind until cleared', {
  timeout: 90_000,
}, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dashboard: { overlayPollMs: 200 } });
  const api = apiClient(fleet.base);
  await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-101', site: { name: 'Hongqi street works', ...AT } });
  const u = await unitClient(t, broker.url, 'hrb-101');
  await send(u, 'hrb-101', 'presence', { state: 'online', ts: Date.now() });
  await send(u, 'hrb-101', 'power', power(1, 90, Date.now()));
  await send(u, 'hrb-101', 'location', { seq: 2, ts: Date.now(), ...AT, fix: '3d', sats: 10 });

  // The grid the tickets use, served as is (outlines), gzipped, and not sent twice to a page that has it.
  const auth = { authorization: `Bearer ${ADMIN}` };
  const served = await fetch(`${fleet.base}/api/dashboard/grid`, { headers: auth });
  assert.equal(served.headers.get('content-encoding'), 'gzip');
  const outline = (await served.json()) as FeatureCollection;
  assert.equal(outline.features.filter((f) => f.properties?.level === 'cell').length, grid.cellCount);
  const again = await fetch(`${fleet.base}/api/dashboard/grid`, {
    headers: { ...auth, 'if-none-match': served.headers.get('etag') ?? '' },
  });
  assert.equal(again.status, 304);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { viewport: DESKTOP });
  const { page } = p;
  const card = page.locator('article.card[data-unit="hrb-101"]');
  const cell = grid.cellAt(AT.lat, AT.lon);
  assert.ok(cell);
  await card.locator('[data-field="grid"]', { hasText: `grid ${cell}` }).waitFor();
  await page.locator('#map .mk.lvl-ok b[data-unit="hrb-101"]').waitFor();
  // City zoom: the districts the grid names, no cell drawn; no ticket yet, no coloured cell.
  assert.equal(await page.locator('#map .leaflet-tooltip.label-district').count(), 8);
  assert.equal(await page.locator('#map.cells').count(), 0);
  assert.equal(await page.locator('#map path.cell-ticket').count(), 0);
  await page.locator('#map .legend', { hasText: 'Open tickets per grid cell' }).waitFor();

  // A tamper: the marker turns into the alarm kind, the card says so, the ticket's cell lights up.
  await send(u, 'hrb-101', 'alarm', tamper(3, 'raised'));
  await page.locator('#map .mk.lvl-bad.cause-alarm b[data-unit="hrb-101"]').waitFor({ timeout: 10_000 });
  assert.equal(await card.locator('[data-field="alarm"]').textContent(), '⚠ alarms: 1 · major');
  await page.locator(`#map path.cell-ticket.light-green[data-cell="${cell}"]`).waitFor({ timeout: 10_000 });
  const tickets = (await api('GET', '/api/tickets', ADMIN)).body as { tickets: { grid: { cell: string } }[] };
  assert.deepEqual(
    tickets.tickets.map((x) => x.grid.cell),
    [cell],
    'the ticket is routed to the cell the card names',
  );
  // Zoomed in, every cell is drawn.
  await page.locator('#map .mk b[data-unit="hrb-101"]').click();
  await page.locator('#map.cells').waitFor();
  // On a canvas above the districts' SVG (Leaflet puts a pane's canvas under its SVG, where the fill would hide it).
  const z = await page.evaluate(
    `['.leaflet-cells-pane', '.leaflet-overlay-pane'].map((q) => document.querySelector('#map ' + q)).map((e) => e && e.querySelector('canvas, svg') ? Number(getComputedStyle(e).zIndex) : null)`,
  );
  assert.ok(
    Array.isArray(z) && z[0] !== null && z[1] !== null && z[0] > z[1],
    `the cells' canvas above the districts' SVG: ${JSON.stringify(z)}`,
  );
  await page.locator('#map path.grid-selected').waitFor();
  await p.shot('dashboard-alarm-desktop');

  // Cleared: back to its other conditions (healthy); the ticket is still open, its cell still lit.
  await send(u, 'hrb-101', 'alarm', tamper(4, 'cleared'));
  await page.locator('#map .mk.lvl-ok:not(.cause-alarm) b[data-unit="hrb-101"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#unit-view [data-field="alarm"]').textContent(), '');
  assert.equal(await page.locator(`#map path.cell-ticket[data-cell="${cell}"]`).count(), 1);
  assert.deepEqual(p.errors, []);
});

test("ages are counted on the fleet's clock, at its rate (--time-scale)", { timeout: 60_000 }, async (t) => {
  const broker = await startBroker(t);
  // 120 fleet seconds per real second: two real seconds are four minutes on the page.
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, timeScale: 120 });
  const u = await unitClient(t, broker.url, 'hrb-102');
  const fleetNow = async () => ((await (await fetch(`${fleet.base}/api/dashboard/config`)).json()) as { clock: { now: number } }).clock.now;
  // Stamped with the fleet's now, as a simulated unit on the same scale stamps it.
  await send(u, 'hrb-102', 'power', power(1, 80, await fleetNow()));
  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { viewport: DESKTOP });
  const soc = p.page.locator('article.card[data-unit="hrb-102"] [data-field="soc"]');
  await soc.waitFor();
  // The browser's clock would say seconds; the fleet's says minutes, and they keep going.
  let first = 0;
  await waitFor(async () => {
    first = Number(/(\d+) min ago$/.exec((await soc.textContent()) ?? '')?.[1] ?? 0);
    return first >= 2;
  }, 10_000);
  await waitFor(async () => Number(/(\d+) min ago$/.exec((await soc.textContent()) ?? '')?.[1] ?? 0) >= first + 8, 15_000);
  // The unit page's history ends at the fleet's now too: the reading, stamped ahead of the wall clock, is in it.
  const history = async () =>
    ((await apiClient(fleet.base)('GET', '/api/units/hrb-102/history/power', ADMIN)).body as { points: unknown[] }).points.length;
  await waitFor(async () => (await history()) === 1);
  assert.deepEqual(p.errors, []);
});
