/**
 * What a maintainer watching a wave reads on the unit list and in the CLI: a unit between its two
 * slots says it is restarting into the release (both languages), not asleep; and counts are English
 * ("1 unit").
 * Screenshots: test-artifacts/dashboard-restart-{en,zh}.png.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../src/cli/run.ts';
import { openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient } from './helpers.ts';

const ADMIN = 'dashboard-admin-token';

test('a unit restarting into 0.2.0 reads so on its card in English and Chinese; one unit is "1 unit"', { timeout: 60_000 }, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  await api('POST', '/api/registry/units', ADMIN, {
    id: 'hrb-001',
    site: { name: 'Songhua River embankment works', lat: 45.7792, lon: 126.6183 },
  });
  const unit = await unitClient(t, broker.url, 'hrb-001');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now(), agent: '0.1.0' });
  await send(unit, 'hrb-001', 'power', { seq: 1, ts: Date.now(), soc: 82, batteryV: 13.2, solarW: 18, windW: 4, loadW: 6, state: 'full' });

  const browser = await startBrowser(t);
  const en = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { lang: 'en' });
  const card = en.page.locator('article.card[data-unit="hrb-001"]');
  await en.page.locator('#summary', { hasText: '1 unit · 1 online' }).waitFor();

  const by = Date.now() + 300_000;
  await send(unit, 'hrb-001', 'presence', {
    state: 'offline',
    ts: Date.now(),
    agent: '0.1.0',
    nextContactBy: by,
    restarting: { into: '0.2.0', by },
  });
  await card.locator('[data-field="liveness"]', { hasText: 'restarting into 0.2.0' }).waitFor();
  assert.doesNotMatch((await card.textContent()) ?? '', /asleep/);
  assert.match((await en.page.locator('#summary').textContent()) ?? '', /^1 unit · 0 online · 0 dark/, 'a restart is not a dark unit');
  await en.shot('dashboard-restart-en');
  let out = '';
  const code = await runCli(['units', '--api', fleet.base, '--token', ADMIN], {
    out: (s) => (out += s),
    err: () => undefined,
    env: {},
    now: () => Date.now(),
  });
  assert.equal(code, 0);
  assert.match(out, /\nhrb-001\s+restarting into 0\.2\.0, back by \d{4}-\d\d-\d\d \d\d:\d\d /);
  out = '';
  await runCli(['unit', 'hrb-001', '--api', fleet.base, '--token', ADMIN], {
    out: (s) => (out += s),
    err: () => undefined,
    env: {},
    now: () => Date.now(),
  });
  assert.match(out, /^status\s+restarting into 0\.2\.0, back by /m);
  assert.doesNotMatch(out, /was due/, 'not due before its health window ends');

  const zh = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { lang: 'zh-CN' });
  const zhCard = zh.page.locator('article.card[data-unit="hrb-001"]');
  await zhCard.locator('[data-field="liveness"]', { hasText: '正在重启进入 0.2.0' }).waitFor();
  assert.match((await zh.page.locator('#summary').textContent()) ?? '', /^1 台/);
  await zh.shot('dashboard-restart-zh');
  assert.deepEqual([...en.errors, ...zh.errors], []);
});
