/**
 * A thousand unit views stream in while a commander works the page: every interaction (typing a
 * filter, opening a unit, going back) answers within 100 ms, measured by the page's own Event
 * Timing entries (input to next paint). The same figures, against the full re-render the page
 * did before keyed updates, are in `npm run bench fleet/bench/dashboard`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { firstRender, publishFleet, recordInteractions, streamUpdates } from '../bench/dashboard.lib.ts';
import { DESKTOP, openPage, startBrowser } from './dashboard-browser.ts';
import { startBroker, startTestFleet, waitFor } from './helpers.ts';

const UNITS = 1000;
const ADMIN = 'dashboard-admin-token';

test('1,000 units streaming: the page answers every interaction within 100 ms', { timeout: 120_000 }, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const units = await mqtt.connectAsync(broker.url, { clientId: 'many-units', reconnectPeriod: 0 });
  t.after(() => units.end(true));
  await publishFleet(units, UNITS);
  await waitFor(() => fleet.state.list().length === UNITS, 20_000);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { viewport: DESKTOP });
  const { page } = p;
  const rendered = await firstRender(page, UNITS);
  const interactions = await recordInteractions(page);
  const streaming = streamUpdates(units, UNITS, 200, 8000);
  await page.waitForTimeout(1000);
  await page.locator('#filter').pressSequentially('hrb-00', { delay: 120 });
  await page.locator('article.card:not([hidden])').first().waitFor();
  await page.locator('#filter').fill('');
  await page.locator('article.card[data-unit="hrb-0002"]').click();
  await page.locator('#unit-view .unit-page[data-unit="hrb-0002"]').waitFor();
  await page.locator('#unit-view a.back').click();
  await page.locator('#list-view').waitFor();
  await page.selectOption('#sort', 'worst');
  const sent = await streaming;
  await p.shot('dashboard-1000-units');
  const events = await interactions();
  const worst = Math.max(0, ...events.map((e) => e.duration));
  t.diagnostic(
    `first render of ${UNITS} units ${rendered.toFixed(0)} ms; ${sent} updates streamed; slowest interaction ${worst} ms (${events.length} over 16 ms)`,
  );
  assert.ok(worst <= 100, `slowest interaction ${worst} ms: ${JSON.stringify(events)}`);
  assert.deepEqual(p.errors, []);
});
