/**
 * The command dashboard in a real headless Chromium: the map (Leaflet, offline) and the unit list
 * follow the wire live; markers by worst condition answer a click with the unit's page; zoom and
 * pan move the view; the filter hides markers and cards alike. Screenshots: test-artifacts/.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Power } from '@shouwang/protocol';
import type { FeatureCollection } from 'geojson';
import { SAMPLE_GRID } from '../src/alarms/loop.ts';
import { Grid } from '../src/grid/grid.ts';
import { readJsonFile } from '../src/json-file.ts';
import { DESKTOP, openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';
import { pmtilesArchive, solidPng } from './pmtiles-writer.ts';

const ADMIN = 'dashboard-admin-token';
const SITES = [
  ['hrb-001', 45.7792, 126.6183, 82, 'Songhua River embankment works', 'HRB-C4'],
  ['hrb-002', 45.7437, 126.5618, 35, 'Qunli New District construction site', 'HRB-A1'],
  ['hrb-003', 45.7046, 126.5761, 64, 'Harbin West Station rail works', null],
] as const;

const power = (seq: number, soc: number, ts = Date.now()): Power => ({
  seq,
  ts,
  soc,
  batteryV: 12.4 + soc / 100,
  solarW: 18.2,
  windW: 4.1,
  loadW: 6.3,
  state: soc < 40 ? 'alarm-camera' : 'full',
});

test('map and list: live, marker by worst condition, click to detail, zoom and pan, filter hides markers', {
  timeout: 90_000,
}, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const units = [];
  for (const [id, lat, lon, soc, site, grid] of SITES) {
    await api('POST', '/api/registry/units', ADMIN, { id, site: { name: site, lat, lon }, gridCell: grid });
    const u = await unitClient(t, broker.url, id);
    units.push(u);
    await send(u, id, 'presence', { state: 'online', ts: Date.now() });
    await send(u, id, 'power', power(1, soc));
    await send(u, id, 'location', { seq: 2, ts: Date.now(), lat, lon, fix: '3d', sats: 11 });
    await send(u, id, 'link', { seq: 3, ts: Date.now(), type: id === 'hrb-003' ? 'nr' : 'lte', rssiDbm: -79, bars: 4 });
  }
  // Registered, never heard: on the list as such, on the map at its registered site.
  await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-009', site: { name: 'Acheng quarry slope', lat: 45.5421, lon: 126.9563 } });

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { viewport: DESKTOP });
  const { page } = p;
  const card = (id: string) => page.locator(`article.card[data-unit="${id}"]`);
  const marker = (id: string) => page.locator(`#map .mk b[data-unit="${id}"]`);

  await card('hrb-009').waitFor();
  await page.locator('#summary', { hasText: '4 units · 3 online' }).waitFor();
  assert.equal(await page.locator('#map .mk').count(), 4);
  // At a glance: site and grid cell, each reading's age, the power rung, the next contact.
  const c1 = card('hrb-001');
  await c1.locator('[data-field="site"]', { hasText: 'Songhua River embankment works' }).waitFor();
  // The cell is the one tickets are routed to (the registry's own label does not override it).
  const routing = new Grid(readJsonFile(SAMPLE_GRID, 'grid') as FeatureCollection, 'city').cellAt(45.7792, 126.6183);
  assert.match(routing ?? '', /^daoli-g/);
  assert.equal(await c1.locator('[data-field="grid"]').textContent(), `grid ${routing}`);
  assert.match((await c1.locator('[data-field="soc"]').textContent()) ?? '', /^82 % · 13\.22 V · \d+ s ago$/);
  assert.equal(await c1.locator('[data-field="rung"]').textContent(), 'full power');
  assert.equal(await c1.locator('[data-field="next"]').textContent(), 'connected now');
  assert.equal(await card('hrb-009').locator('[data-field="liveness"]').textContent(), 'registered, not claimed');
  assert.equal(await page.locator('#map .mk.lvl-unheard b[data-unit="hrb-009"]').count(), 1);
  // Worst condition: low battery is amber and square (power); healthy is green and round.
  assert.equal(await page.locator('#map .mk.lvl-warn.cause-power b[data-unit="hrb-002"]').count(), 1);
  assert.equal(await page.locator('#map .mk.lvl-ok b[data-unit="hrb-001"]').count(), 1);

  // Live: a new reading patches the card; a unit dying turns its marker red (liveness).
  const [u1, u2, u3] = units;
  assert.ok(u1 && u2 && u3);
  const socNode = await c1.locator('[data-field="soc"]').elementHandle();
  await send(u1, 'hrb-001', 'power', power(9, 41));
  await c1.locator('[data-field="soc"]', { hasText: '41 %' }).waitFor();
  assert.ok(await socNode?.evaluate((n) => n.isConnected), 'the card was patched, not rebuilt');
  await send(u3, 'hrb-003', 'presence', { state: 'offline', ts: 1 });
  // Red; its kind turns from liveness to alarm once the fleet's missed-contact rule raises one.
  await page.locator('#map .mk.lvl-bad b[data-unit="hrb-003"]').waitFor();
  assert.equal(await card('hrb-003').locator('[data-field="liveness"]').textContent(), 'late');
  await send(u2, 'hrb-002', 'power', { ...power(10, 33), timeToEmptyH: 20 });
  await page.locator('#risk li[data-unit="hrb-002"]', { hasText: 'battery empty in 20' }).waitFor();

  // Zoom and pan change the view: the marker moves on screen.
  const at = async () => {
    const b = await marker('hrb-001').boundingBox();
    assert.ok(b, 'marker on screen');
    return b;
  };
  // Where the marker rests once Leaflet's animation is over.
  const settled = async () => {
    let last = await at();
    for (;;) {
      await page.waitForTimeout(100);
      const now = await at();
      if (now.x === last.x && now.y === last.y) return now;
      last = now;
    }
  };
  const before = await settled();
  await page.click('.leaflet-control-zoom-in');
  await waitFor(async () => (await at()).x !== before.x);
  const zoomed = await settled();
  const mapBox = await page.locator('#map').boundingBox();
  assert.ok(mapBox);
  await page.mouse.move(mapBox.x + mapBox.width / 2, mapBox.y + mapBox.height - 60);
  await page.mouse.down();
  await page.mouse.move(mapBox.x + mapBox.width / 2 - 120, mapBox.y + mapBox.height - 100, { steps: 8 });
  await page.mouse.up();
  await waitFor(async () => (await at()).x < zoomed.x - 60);
  // …and back, so every marker is in the pane for what follows.
  await page.click('.leaflet-control-zoom-out');
  await page.mouse.move(mapBox.x + mapBox.width / 2 - 120, mapBox.y + mapBox.height - 100);
  await page.mouse.down();
  await page.mouse.move(mapBox.x + mapBox.width / 2, mapBox.y + mapBox.height - 60, { steps: 8 });
  await page.mouse.up();
  await settled();

  // The filter hides markers too, and shows them back.
  await page.fill('#filter', 'late');
  await waitFor(async () => (await page.locator('#map .mk').count()) === 1);
  assert.deepEqual(await page.locator('article.card:not([hidden])').evaluateAll((els) => els.map((e) => e.getAttribute('data-unit'))), [
    'hrb-003',
  ]);
  assert.equal(await marker('hrb-003').count(), 1);
  await page.fill('#filter', 'Qunli');
  await waitFor(async () => (await page.locator('#map .mk').count()) === 1 && (await marker('hrb-002').count()) === 1);
  await page.fill('#filter', '');
  await waitFor(async () => (await page.locator('#map .mk').count()) === 4);
  await page.selectOption('#sort', 'worst');
  await waitFor(async () => (await card('hrb-003').evaluate((e) => (e as unknown as { style: { order: string } }).style.order)) === '0');

  // Click a marker → the unit's page, with its deployment radius and grid cell on the map.
  await p.shot('dashboard-desktop');
  await marker('hrb-002').click();
  await page.locator('#unit-view .unit-page[data-unit="hrb-002"]').waitFor();
  assert.equal(await page.locator('#unit-view [data-field="site"]').textContent(), 'Qunli New District construction site');
  await page.locator('#map path.site-radius').waitFor();
  await page.locator('#map path.grid-selected').waitFor();
  // A unit that moved shows its track.
  await send(u2, 'hrb-002', 'location', { seq: 12, ts: Date.now(), lat: 45.7537, lon: 126.5718, fix: '3d', sats: 9 });
  await page.locator('#map path.track').waitFor();
  await page.locator('#unit-view [data-field="place"]', { hasText: 'moving' }).waitFor();
  // Link diagnostics: the serial ports as the unit's drivers see them; an unknown signal says so.
  await send(u2, 'hrb-002', 'link', {
    seq: 13,
    ts: Date.now(),
    type: 'lte',
    registered: true,
    ports: {
      gps: { state: 'silent', path: '/dev/ttyUSB1', reopens: 3, drops: { checksum: 2, framing: 0 } },
      modem: { state: 'open', path: '/dev/ttyUSB2', reopens: 0, drops: {} },
    },
  });
  const diag = page.locator('#unit-view .link-figures');
  await diag.getByText('/dev/ttyUSB1 · silent · reopened 3× · dropped checksum 2').waitFor();
  await diag.getByText('/dev/ttyUSB2 · open · reopened 0×', { exact: true }).waitFor();
  assert.match((await diag.textContent()) ?? '', /signalunknown/);
  await diag.getByText('4G', { exact: true }).waitFor();
  await p.shot('dashboard-unit-desktop');
  await page.click('#unit-view a.back');
  await card('hrb-001').waitFor();

  // A unit listed before it had any position (heard before its first fix) gets its marker with that
  // fix, in the default order too, where a reading moves no card.
  await page.selectOption('#sort', 'id');
  const u10 = await unitClient(t, broker.url, 'hrb-010');
  await send(u10, 'hrb-010', 'presence', { state: 'online', ts: Date.now() });
  await send(u10, 'hrb-010', 'power', power(1, 70));
  await card('hrb-010').waitFor();
  assert.equal(await marker('hrb-010').count(), 0);
  await send(u10, 'hrb-010', 'location', { seq: 2, ts: Date.now(), lat: 45.76, lon: 126.6, fix: '3d', sats: 8 });
  await marker('hrb-010').waitFor({ timeout: 10_000 });

  // The track is the fleet's stored positions: a reload (nothing seen by this page yet) still draws it.
  await waitFor(
    async () => ((await api('GET', '/api/units/hrb-002/history/location', ADMIN)).body as { points: unknown[] }).points.length === 2,
  );
  await page.goto(`${fleet.base}/#/unit/hrb-002`);
  await page.reload();
  await page.locator('#unit-view .unit-page[data-unit="hrb-002"]').waitFor();
  await page.locator('#map path.track').waitFor();

  await page.setViewportSize(PHONE);
  await p.shot('dashboard-phone');
  assert.deepEqual(p.errors, []);
  // Offline: map library, styles, outlines and data all come from the fleet itself.
  assert.deepEqual(
    p.requests.filter((u) => !u.startsWith(`${fleet.base}/`)),
    [],
  );
  assert.ok(p.requests.length > 5);
});

test('an operator tile server, when configured, is the base layer under the outlines', { timeout: 60_000 }, async (t) => {
  // One grey 1×1 PNG for every tile; the server records what Leaflet asked for.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==', 'base64');
  const asked: string[] = [];
  const tiles = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  });
  tiles.listen(0, '127.0.0.1');
  await once(tiles, 'listening');
  t.after(() => new Promise<void>((r) => tiles.close(() => r())));
  const tileUrl = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dashboard: { tiles: { url: tileUrl } } });
  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`);
  await p.page.locator('#map img.leaflet-tile-loaded').first().waitFor();
  // Harbin at the fitted zoom: tiles around x/2^z ≈ 0.85, y/2^z ≈ 0.35 of the web-mercator world.
  const [, z, x, y] = /^\/(\d+)\/(\d+)\/(\d+)\.png$/.exec(asked[0] ?? '')?.map(Number) ?? [];
  assert.ok(z !== undefined && x !== undefined && y !== undefined, asked[0]);
  assert.ok(Math.abs(x / 2 ** z - 0.851) < 0.01 && Math.abs(y / 2 ** z - 0.356) < 0.01, asked[0]);
  assert.equal(await p.page.locator('#map path.geo-river').count(), 1, 'the outlines stay on top');
  assert.deepEqual(p.errors, []);
});

test('an offline tile file (PMTiles), when configured, is the base layer: served with byte ranges, tiles drawn', {
  timeout: 60_000,
}, async (t) => {
  const dir = await tempDir(t);
  const file = `${dir}/harbin.pmtiles`;
  // Magenta tiles over Harbin for zooms 6–11: on screen, a drawn tile is told by its colour.
  const archive = pmtilesArchive({
    tile: solidPng(200, 30, 150),
    minZoom: 6,
    maxZoom: 11,
    bounds: { minLon: 126.0, minLat: 45.2, maxLon: 127.4, maxLat: 46.2 },
  });
  await writeFile(file, archive);
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dashboard: { tiles: { file } } });

  // Byte ranges as RFC 9110 has them: a part (206), the tail clamped to the file, past the end a 416.
  const range = (r: string) => fetch(`${fleet.base}/tiles/archive.pmtiles`, { headers: { range: r } });
  const head = await range('bytes=0-6');
  assert.equal(head.status, 206);
  assert.equal(head.headers.get('content-range'), `bytes 0-6/${archive.length}`);
  assert.equal(await head.text(), 'PMTiles');
  const clamped = await range('bytes=0-16383');
  assert.equal(clamped.status, 206);
  assert.equal((await clamped.arrayBuffer()).byteLength, archive.length);
  assert.equal((await range(`bytes=${archive.length}-`)).status, 416);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`);
  const tile = p.page.locator('#map img.leaflet-tile-loaded[src^="blob:"]').first();
  await tile.waitFor({ timeout: 15_000 });
  // The centre pixel of a drawn tile, read back in the page (the test runs in Node: the code is the page's).
  const pixel = await p.page.evaluate(`(() => {
    const img = document.querySelector('#map img.leaflet-tile-loaded[src^="blob:"]');
    const c = document.createElement('canvas');
    c.width = c.height = 1;
    const g = c.getContext('2d');
    g.drawImage(img, 128, 128, 1, 1, 0, 0, 1, 1);
    return [...g.getImageData(0, 0, 1, 1).data].slice(0, 3);
  })()`);
  assert.deepEqual(pixel, [200, 30, 150]);
  assert.ok(p.requests.some((u) => u === `${fleet.base}/tiles/archive.pmtiles`));
  assert.deepEqual(
    p.requests.filter((u) => !u.startsWith(`${fleet.base}/`) && !u.startsWith('blob:')),
    [],
    'nothing asked of any other host',
  );
  assert.equal(await p.page.locator('#map path.geo-river').count(), 1, 'the outlines stay on top');
  // No unit yet: the list says so and what to do, instead of an empty column.
  await p.page.locator('#empty:not([hidden])', { hasText: 'No unit has been registered or heard yet' }).waitFor();
  await p.shot('dashboard-pmtiles-desktop');
  assert.deepEqual(p.errors, []);
});

test('a tile file that is no raster PMTiles archive stops the start, named', async (t) => {
  const dir = await tempDir(t);
  const broker = await startBroker(t);
  await writeFile(`${dir}/not.pmtiles`, 'not an archive');
  await assert.rejects(
    startTestFleet(t, broker.url, { dashboard: { tiles: { file: `${dir}/not.pmtiles` } } }),
    /dashboard\.tiles\.file: '.*not\.pmtiles' is not a PMTiles archive/,
  );
  await assert.rejects(
    startTestFleet(t, broker.url, { dashboard: { tiles: { file: `${dir}/missing.pmtiles` } } }),
    /dashboard\.tiles\.file: cannot open/,
  );
});
