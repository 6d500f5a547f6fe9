/**
 * Signing in to the dashboard with the fleet's bearer tokens, in a real headless Chromium: no
 * token → the prompt; a wrong token → refused with a message; a good one → the page, the role
 * shown; sign-out → the prompt again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient } from './helpers.ts';

const ADMIN = 'dashboard-admin-token';

test('sign in with a token; a wrong token is refused with a message; no token gets the prompt', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const commander = (await api('POST', '/api/tokens', ADMIN, { role: 'commander', name: 'Duty officer Li' })).body as { token: string };
  const unit = await unitClient(t, broker.url, 'hrb-001');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now() });

  const browser = await startBrowser(t);
  const p = await openPage(browser, fleet.base);
  const { page } = p;
  await page.locator('#signin form.signin').waitFor();
  assert.match((await page.locator('.signin-message').textContent()) ?? '', /needs a token/);
  assert.equal(await page.locator('article.card').count(), 0, 'nothing is shown before sign-in');
  await p.shot('signin-prompt');

  await page.fill('#signin input[name="token"]', 'swt_not-a-real-token');
  await page.click('#signin button[type="submit"]');
  await page.locator('.signin-message.refused', { hasText: 'refused' }).waitFor();
  assert.equal(await page.locator('article.card').count(), 0);

  await page.fill('#signin input[name="token"]', commander.token);
  await page.click('#signin button[type="submit"]');
  await page.locator('article.card[data-unit="hrb-001"]').waitFor();
  assert.equal(await page.locator('#signin').isHidden(), true);
  assert.match((await page.locator('#role').textContent()) ?? '', /Duty officer Li · commander/);
  await page.locator('#conn[data-state="live"]').waitFor();

  // Kept in this browser: a reload goes straight to the page.
  await page.reload();
  await page.locator('article.card[data-unit="hrb-001"]').waitFor();

  await page.click('#signout');
  await page.locator('#signin form.signin').waitFor();
  assert.deepEqual(p.errors, []);
});

test('a fleet that does not answer the first request: the page says so and tries again, never blank', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const browser = await startBrowser(t);
  const context = await browser.newContext({ locale: 'en' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The fleet restarting: its config answers 503 until it is back.
  let down = true;
  await page.route('**/api/dashboard/config', (route) =>
    down ? route.fulfill({ status: 503, body: '{"error":{"code":"UNAVAILABLE","message":"starting"}}' }) : route.continue(),
  );
  await page.goto(`${fleet.base}/#token=${ADMIN}`);
  await page.locator('#signin .start-failed[role="alert"]', { hasText: 'The fleet did not answer (HTTP 503). Retrying in 5 s' }).waitFor();
  down = false;
  // "Retry now" instead of waiting: the page comes up signed in with the token of the link.
  await page.click('#signin .start-failed button');
  await page.locator('#conn[data-state="live"]').waitFor();
  assert.equal(await page.locator('#signin').isHidden(), true);
  assert.match((await page.locator('#role').textContent()) ?? '', /admin/);
  assert.deepEqual(errors, []);
});
