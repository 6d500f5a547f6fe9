/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; no browser is
 * ever downloaded): the map and the cards show the units and follow the wire live.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Power } from '@shouwang/protocol';
import { chromium } from 'playwright-core';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const SITES = [
  ['hrb-001', 45.7792, 126.6183, 82],
  ['hrb-002', 45.7437, 126.5618, 35],
  ['hrb-003', 45.7046, 126.5761, 64],
] as const;

const power = (seq: number, soc: number): Power => ({
  seq,
  ts: 1_763_856_000_000 + seq * 1000,
  soc,
  batteryV: 12.4 + soc / 100,
  solarW: 18.2,
  windW: 4.1,
  loadW: 6.3,
  state: soc < 40 ? 'alarm-camera' : 'full',
});

test('map and cards show the units and update live', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const units = [];
  for (const [id, lat, lon, soc] of SITES) {
    const u = await unitClient(t, broker.url, id);
    units.push(u);
    await send(u, id, 'presence', { state: 'online', ts: 1 });
    await send(u, id, 'power', power(1, soc));
    await send(u, id, 'location', { seq: 2, ts: 2, lat, lon, fix: '3d', sats: 11 });
    await send(u, id, 'link', { seq: 3, ts: 3, type: id === 'hrb-003' ? 'nr' : 'lte', rssiDbm: -79, bars: 4 });
  }

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(fleet.base);

  await page.locator('article.card').nth(2).waitFor();
  assert.equal(await page.locator('article.card').count(), 3);
  assert.equal(await page.locator('#map g.unit').count(), 3);
  assert.match((await page.locator('article[data-unit="hrb-001"]').textContent()) ?? '', /82 %/);
  assert.match((await page.locator('#summary').textContent()) ?? '', /3 units · 3 online · 0 offline · 1 low battery/);

  // Live: a new reading and a unit dying, with no reload.
  const [u1, u2, u3] = units;
  assert.ok(u1 && u2 && u3);
  await send(u1, 'hrb-001', 'power', power(9, 41));
  await page.locator('article[data-unit="hrb-001"] [data-field="soc"]', { hasText: '41 %' }).waitFor();
  await send(u3, 'hrb-003', 'presence', { state: 'offline', ts: 1 });
  await page.locator('article.card.offline[data-unit="hrb-003"]').waitFor();
  assert.equal(await page.locator('#map g.unit[data-unit="hrb-003"] circle').getAttribute('fill'), '#f85149');
  assert.equal(await page.locator('article[data-unit="hrb-003"] [data-field="liveness"]').textContent(), 'late');

  // A battery forecast to run out within 48 h puts the unit on the at-risk list, below the dark one.
  await send(u2, 'hrb-002', 'power', { ...power(10, 33), ts: Date.now(), timeToEmptyH: 20 });
  await page.locator('#risk li[data-unit="hrb-002"]', { hasText: 'battery empty in 20' }).waitFor();
  // History: a back-filled reading from an hour ago lands in the chart at its own time.
  await send(u2, 'hrb-002', 'power', { ...power(8, 45), ts: Date.now() - 3_600_000 });
  await waitFor(async () => (await fleet.store.powerHistory('hrb-002', Date.now() - 7_200_000, Date.now(), 10)).length === 2);
  await page.locator('article[data-unit="hrb-002"] button.chart-toggle').click();
  await page.locator('article[data-unit="hrb-002"] svg.chart path.soc').waitFor();
  assert.match((await page.locator('article[data-unit="hrb-002"] .legend').textContent()) ?? '', /1\.0 h/);
  assert.deepEqual(await page.locator('#risk li').evaluateAll((els) => els.map((e) => e.getAttribute('data-unit'))), [
    'hrb-003',
    'hrb-002',
  ]);

  // Data use against the plan, and the last commissioning run, on the card.
  await send(u1, 'hrb-001', 'link', { seq: 11, ts: Date.now(), type: 'lte', rssiDbm: -79, bars: 4, bytesMonth: 31_000_000 });
  await page.locator('article[data-unit="hrb-001"] [data-field="data"]', { hasText: 'over budget' }).waitFor();
  assert.match((await page.locator('article[data-unit="hrb-001"] [data-field="data"]').textContent()) ?? '', /^31\.0 MB of 30\.0 MB/);
  fleet.state.setCommissioning('hrb-002', { at: Date.UTC(2026, 10, 23, 3, 5), passed: false, failed: ['camera', 'charge'] });
  await page.locator('article[data-unit="hrb-002"] [data-field="commissioning"].fail', { hasText: 'failed: camera, charge' }).waitFor();
  assert.match((await page.locator('article[data-unit="hrb-003"] [data-field="commissioning"]').textContent()) ?? '', /not yet/);

  // A unit that announces a planned sleep is shown asleep, not lost.
  const sleeper = await unitClient(t, broker.url, 'hrb-004');
  await send(sleeper, 'hrb-004', 'location', { seq: 1, ts: 1, lat: 45.76, lon: 126.66, fix: '3d' });
  await send(sleeper, 'hrb-004', 'presence', { state: 'offline', ts: Date.now(), nextContactBy: Date.now() + 6 * 3_600_000 });
  await page.locator('article[data-unit="hrb-004"] [data-field="liveness"]', { hasText: 'asleep' }).waitFor();
  assert.equal(await page.locator('#map g.unit[data-unit="hrb-004"] circle').getAttribute('fill'), '#58a6ff');
  // Its location alone already reads as a quiet unit due within the default silence; the presence
  // that follows carries the planned sleep, so wait for the card to show that deadline.
  await page.locator('article[data-unit="hrb-004"] [data-field="due"]', { hasText: /^in (5|6) h$/ }).waitFor({ timeout: 10_000 });

  // Filter and sort are the technician's way to one unit on a phone.
  await page.fill('#filter', 'asleep');
  assert.deepEqual(await page.locator('article.card').evaluateAll((els) => els.map((e) => e.getAttribute('data-unit'))), ['hrb-004']);
  await page.fill('#filter', '');
  await page.selectOption('#sort', 'battery');
  assert.equal(await page.locator('article.card').first().getAttribute('data-unit'), 'hrb-004', 'no reading sorts first');

  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}dashboard.png` });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `${ARTIFACTS}dashboard-phone.png`, fullPage: true });
  assert.deepEqual(errors, []);
});
