/**
 * The campaign page's history in Debian's headless Chromium: the audit log's create and moves of
 * that campaign, newest first, each with the actor's name and role, its reason (typed in the
 * confirmation) and a refusal in words; English on a desktop, Chinese on a phone (where a unit row
 * reads label beside value, a cell of two parts included); and when the next wave goes, or that it
 * is held while paused. Screenshots in
 * test-artifacts/ (campaign-history-*.png).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { startOtaFleet } from './ota-helpers.ts';

const ADMIN = 'campaign-history-admin-token';

test('the campaign page lists who created and moved the campaign, with role, reason and refusals, newest first', async (t) => {
  const { fleet, api } = await startOtaFleet(t, ADMIN, '2.0.1', 1);
  for (const id of ['hrb-h01', 'hrb-h02'])
    assert.equal((await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4' })).status, 201);
  const token = async (role: string, name: string) =>
    ((await api('POST', '/api/tokens', ADMIN, { role, name })).body as { token: string }).token;
  const maintainer = await token('maintainer', 'Maintainer Li');
  const commander = await token('commander', 'Commander Zhao');
  const created = await api('POST', '/api/ota/campaigns', maintainer, {
    name: 'Hulan patch',
    version: '2.0.1',
    target: { units: ['hrb-h01', 'hrb-h02'] },
    canaryUnits: ['hrb-h01'],
    waves: [100],
    soakS: 600,
  });
  const id = (created.body as { id: string }).id;
  const started = (await api('POST', `/api/ota/campaigns/${id}/start`, maintainer)).body as { startedAt: number; nextWaveAt: number };
  assert.equal(started.nextWaveAt, started.startedAt + 600_000, 'the next wave is due a soak after the start');
  assert.equal((await api('POST', `/api/ota/campaigns/${id}/abort`, commander)).status, 403);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${maintainer}`);
  await p.page.goto(`${fleet.base}/#/campaign/${id}`);
  const history = p.page.locator('#ota-view .ota-history li');
  await history.nth(2).waitFor();
  // The header says where the maintainer is: the updates tab, not the units one.
  assert.deepEqual(await p.page.locator('.loop-nav a[aria-current]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav'))), [
    'updates',
  ]);
  const lines = async () => (await history.allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
  assert.deepEqual(
    (await lines()).map((l) => l.replace(/^\d\d\/\d\d,? \d\d:\d\d /, '')),
    [
      'Commander Zhao (commander) aborted it → refused (FORBIDDEN) role commander may not manage-updates',
      'Maintainer Li (maintainer) started it',
      'Maintainer Li (maintainer) created the campaign',
    ],
  );

  const waves = p.page.locator('#ota-view table.waves tr');
  assert.match(
    (await waves.nth(1).textContent()) ?? '',
    /wave 1\s*1\s*goes \d\d\/\d\d,? \d\d:\d\d \(in 10 min\) once the released units have settled/,
  );
  assert.match((await p.page.locator('#ota-view .ota-counts').textContent()) ?? '', /at least 10 min between waves/);
  await p.page.locator('#ota-view button[data-move="pause"]').click();
  const dialog = p.page.locator('dialog.confirm');
  await dialog.locator('input[name="reason"]').fill('hrb-h01 reboots twice after the switch');
  await p.shot('campaign-history-pause-reason');
  await dialog.locator('button.danger').click();
  await p.page.locator('#ota-view .campaign-page[data-state="paused"]').waitFor();
  await p.page.locator('#ota-view .ota-history li[data-action="pause-campaign"]').waitFor();
  assert.match((await waves.nth(1).textContent()) ?? '', /held: the campaign is paused/);
  assert.equal(((await api('GET', `/api/ota/campaigns/${id}`, commander)).body as { nextWaveAt: unknown }).nextWaveAt, null);
  const first = (await lines())[0] ?? '';
  assert.match(first, /^\d\d\/\d\d,? \d\d:\d\d Maintainer Li \(maintainer\) paused it hrb-h01 reboots twice after the switch$/);
  assert.match(
    (await p.page.locator('#ota-view .paused').textContent()) ?? '',
    /Paused by Maintainer Li · maintainer · reason: hrb-h01 reboots twice after the switch/,
  );
  await p.page.locator('#ota-view .ota-history').scrollIntoViewIfNeeded();
  await p.shot('campaign-history-desktop');

  const zh = await openPage(browser, `${fleet.base}/#token=${commander}`, { lang: 'zh-CN', viewport: PHONE });
  await zh.page.goto(`${fleet.base}/#/campaign/${id}`);
  const zhHistory = zh.page.locator('#ota-view .ota-history li');
  await zhHistory.nth(3).waitFor();
  const zhLines = (await zhHistory.allTextContents()).map((s) => s.replace(/\s+/g, ' '));
  assert.match(zhLines[0] ?? '', /Maintainer Li \(运维员\) 暂停了批次 hrb-h01 reboots twice after the switch/);
  assert.match(zhLines[1] ?? '', /Commander Zhao \(指挥员\) 终止了批次 → 被拒绝（FORBIDDEN）/);
  assert.match(zhLines[3] ?? '', /Maintainer Li \(运维员\) 创建了批次/);
  // On a phone each unit row is label beside value: every value in one column, however many parts a cell has.
  const row = zh.page.locator('#ota-view tr[data-unit="hrb-h01"]');
  const left = async (css: string) => Math.round((await row.locator(css).boundingBox())?.x ?? -1);
  assert.equal(await left('a[href="#/unit/hrb-h01"]'), await left('.chip'), 'the unit and its state in the value column');
  await zh.page.locator('#ota-view .ota-history').scrollIntoViewIfNeeded();
  await zh.shot('campaign-history-zh-phone');

  for (const x of [p, zh]) assert.deepEqual(x.errors, []);
});
