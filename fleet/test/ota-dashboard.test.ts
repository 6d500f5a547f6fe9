/**
 * The campaign pages in Debian's headless Chromium: the list, one campaign with a unit of each
 * kind (updated, deferring for battery, asleep, downloading with bytes and ETA, rolled back), the
 * waves, and pause/resume/abort behind a confirmation by role — desktop 1440×900 and phone 390×844,
 * English and Chinese. Screenshots in test-artifacts/ (ota-*.png).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { waitFor } from './helpers.ts';
import { type Behaviour, protocolUnit, rollsBack, startOtaFleet } from './ota-helpers.ts';

const ADMIN = 'ota-dashboard-admin-token';
const healthy: Behaviour = () => ({ answer: 'queued', reports: [{ step: 'installing' }, { step: 'committed' }] });
const lowBattery: Behaviour = () => ({ answer: 'deferred', reports: [{ step: 'deferred', reason: 'battery', soc: 14 }] });
const downloading: Behaviour = () => ({
  answer: 'queued',
  reports: [{ step: 'downloading', download: { kind: 'full', done: 61_440, total: 190_000, transferred: 61_440, resumes: 1 }, etaS: 95 }],
});

test('the campaign page: counts, waves, every unit with its step, bytes and ETA; pause after a confirmation; by role; desktop, phone and Chinese', async (t) => {
  const { broker, fleet, api } = await startOtaFleet(t, ADMIN, '1.4.2', 2);
  const behaviours: [string, Behaviour][] = [
    ['hrb-d01', healthy],
    ['hrb-d02', lowBattery],
    ['hrb-d03', healthy],
    ['hrb-d04', downloading],
    ['hrb-d05', rollsBack],
  ];
  for (const [id] of behaviours) await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4', tags: ['songbei'] });
  const units = new Map(
    await Promise.all(behaviours.map(async ([id, b]) => [id, await protocolUnit(t, broker.url, id, Date.now, b)] as const)),
  );
  await waitFor(() => behaviours.every(([id]) => fleet.state.get(id)?.liveness.status === 'online'));
  await units.get('hrb-d03')?.sleep(Date.now() + 8 * 3_600_000);
  await waitFor(() => fleet.state.get('hrb-d03')?.liveness.status === 'on-schedule');
  const token = async (role: string, name: string) =>
    ((await api('POST', '/api/tokens', ADMIN, { role, name })).body as { token: string }).token;
  const maintainer = await token('maintainer', 'Maintainer Li');
  const commander = await token('commander', 'Commander Zhao');
  const body = { version: '1.4.2', target: { tags: ['songbei'] }, canaryUnits: ['hrb-d01'], waves: [100], soakS: 0, failureThreshold: 0.5 };
  const created = await api('POST', '/api/ota/campaigns', maintainer, { name: 'Songbei winter patch', ...body });
  const id = (created.body as { id: string }).id;
  await api('POST', `/api/ota/campaigns/${id}/start`, maintainer);
  const campaign = async () => (await api('GET', `/api/ota/campaigns/${id}`, maintainer)).body as { counts: Record<string, number> };
  await waitFor(async () => (await campaign()).counts.updated === 1, 10_000);
  await fleet.ota.campaigns.runDue();
  await waitFor(async () => {
    const c = await campaign();
    return c.counts['rolled-back'] === 1 && c.counts.waiting === 2 && c.counts['in-progress'] === 1;
  }, 10_000);
  await api('POST', '/api/ota/campaigns', maintainer, { name: 'Hulan camera fix', ...body, canaryUnits: [] });

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${maintainer}`);
  const { page } = p;
  await page.locator('#ota-link').click();
  await page.locator('#ota-view table.campaigns tr[data-campaign]').nth(1).waitFor();
  assert.match((await page.locator(`tr[data-campaign="${id}"]`).textContent()) ?? '', /Songbei winter patch\s*1\.4\.2\s*running/);
  assert.equal(await page.locator('#map-pane').isVisible(), false, 'the campaigns take the whole width');
  await p.shot('ota-campaigns-desktop');

  await page.locator(`tr[data-campaign="${id}"] a`).click();
  const view = page.locator('#ota-view .campaign-page[data-state="running"]');
  await view.waitFor();
  const row = (unit: string) => view.locator(`tr[data-unit="${unit}"]`);
  const words = async (l: ReturnType<typeof view.locator>) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(await words(row('hrb-d01')), /canary.*updated/);
  assert.match(await words(row('hrb-d02')), /deferred by the unit.*battery too low \(14 %\)/);
  assert.match(await words(row('hrb-d03')), /hrb-d03 asleep.*job waiting for the unit/);
  assert.match(await words(row('hrb-d04')), /downloading 61\.4 kB \/ 190\.0 kB full 2 min/);
  assert.match(await words(row('hrb-d05')), /rolled back.*health check failed · checks failed: GPS fix/);
  assert.match((await view.locator('.ota-legend').first().textContent()) ?? '', /waiting 2.*updated 1.*rolled back 1/s);
  assert.match((await view.textContent()) ?? '', /1 unit fetches the full bundle: no delta applied to what they run/);
  await p.shot('ota-campaign-desktop');

  await view.locator('button[data-move="pause"]').click();
  const dialog = page.locator('dialog.confirm');
  await dialog.waitFor();
  assert.match((await dialog.textContent()) ?? '', /Pause "Songbei winter patch"\? No further wave/);
  await p.shot('ota-campaign-confirm-pause');
  await dialog.locator('button.danger').click();
  await page
    .locator('#ota-view .campaign-page[data-state="paused"] .paused', { hasText: 'Paused by Maintainer Li · maintainer' })
    .waitFor();
  assert.equal(await page.locator('#ota-view button[data-move="resume"]').count(), 1);

  // A commander reads; the moves say who may.
  const c = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: PHONE });
  await c.page.goto(`${fleet.base}/#/campaign/${id}`);
  const cview = c.page.locator('#ota-view .campaign-page');
  await cview.waitFor();
  assert.match((await cview.locator('button[data-move="resume"]').textContent()) ?? '', /Resume\s*needs maintainer/);
  await cview.locator('button[data-move="resume"]').click();
  await c.page.locator('dialog.confirm button.danger').click();
  await cview.locator('.move-result.refused', { hasText: 'maintainer' }).waitFor();
  const box = await cview.locator('button[data-move="abort"]').boundingBox();
  assert.ok(box && box.height >= 44, 'touch targets on a phone');
  await c.shot('ota-campaign-phone');

  const zh = await openPage(browser, `${fleet.base}/#token=${maintainer}`, { lang: 'zh-CN' });
  await zh.page.goto(`${fleet.base}/#/campaign/${id}`);
  await zh.page.locator('#ota-view .campaign-page', { hasText: '已暂停' }).waitFor();
  assert.match((await zh.page.locator('#ota-view tr[data-unit="hrb-d02"]').textContent()) ?? '', /设备推迟[\s\S]*电量过低 \(14 %\)/);
  assert.match((await zh.page.locator('#ota-view .paused').textContent()) ?? '', /Maintainer Li · 运维员 已暂停/);
  await zh.shot('ota-campaign-zh-desktop');

  for (const x of [p, c, zh]) {
    assert.deepEqual(x.errors, []);
    assert.deepEqual(
      x.requests.filter((u) => !u.startsWith(fleet.base)),
      [],
    );
  }
});
