/**
 * Acting from the dashboard, through the same API as the CLI: a technician on a phone (390 px)
 * commissions a unit and claims another without a laptop; a commander is refused a maintainer's
 * action with a clear message; every attempt is on the unit's audit log.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommissionItem, encodeResponse } from '@shouwang/protocol';
import type { Locator } from 'playwright-core';
import { openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, responder, send, startBroker, startTestFleet, unitClient } from './helpers.ts';

const ADMIN = 'dashboard-admin-token';
const CHECKLIST: CommissionItem[] = [
  { check: 'gps', pass: true, detail: '3d fix, 11 satellites, HDOP 0.8', value: 11 },
  { check: 'signal', pass: true, detail: 'lte -79 dBm (4/5 bars)', value: -79 },
  { check: 'battery', pass: true, detail: '78 % at 13.1 V', value: 78 },
  { check: 'charge', pass: false, detail: 'solar monitor does not answer on I²C' },
  { check: 'camera', pass: true, detail: 'still 1280×720 in 0.4 s' },
  { check: 'upload', pass: true, detail: '48 kB in 1.9 s' },
];

async function height(l: Locator): Promise<number> {
  const box = await l.boundingBox();
  assert.ok(box, 'on screen');
  return box.height;
}

test('a technician commissions and claims from the phone view; a commander is refused a maintainer action; all on the audit log', {
  timeout: 90_000,
}, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const [tech, commander] = [await token('technician', 'Technician Wang'), await token('commander', 'Commander Zhao')];
  const seen = await responder(t, broker.url, 'hrb-001', (cmd, id) =>
    cmd === 'commission'
      ? [encodeResponse('commission', { id, status: 'ok', data: { ts: Date.now(), items: CHECKLIST } })]
      : [encodeResponse('ping', { id, status: 'ok', data: { uptimeS: 5, ts: 1 } })],
  );
  const unit = await unitClient(t, broker.url, 'hrb-001-status');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now() });
  await send(unit, 'hrb-001', 'location', { seq: 1, ts: Date.now(), lat: 45.7792, lon: 126.6183, fix: '3d' });
  const registered = await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-005', board: 'pi4' });
  const claimCode = registered.body.claimCode as string;

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${tech}`, { viewport: PHONE });
  const { page } = p;
  const card = page.locator('article.card[data-unit="hrb-001"]');
  await card.waitFor();
  // The list comes first on a phone, the map under it; targets are at least 44 px high.
  const [list, map] = [await page.locator('#cards').boundingBox(), await page.locator('#map-pane').boundingBox()];
  assert.ok(list && map && list.y < map.y, 'unit list above the map');
  for (const target of [card, page.locator('#filter'), page.locator('#sort'), page.locator('#claim-link'), page.locator('#signout')])
    assert.ok((await height(target)) >= 44, `${await target.evaluate((e) => e.id || e.tagName)} is a touch target`);
  // The header summary stays one line, whole (not cut off), on a phone.
  const summary = page.locator('#summary');
  assert.ok((await height(summary)) < 24, 'one line');
  assert.ok(await summary.evaluate((e) => e.scrollWidth <= e.clientWidth), 'nothing cut off');
  await p.shot('actions-phone-list');

  await card.click();
  const unitPage = page.locator('#unit-view .unit-page[data-unit="hrb-001"]');
  await unitPage.waitFor();
  // The unit page fits the phone: nothing to scroll sideways to (the config fields did overflow).
  assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scroll');
  const run = unitPage.locator('button[data-act="commission"]');
  assert.ok((await height(run)) >= 44);
  await run.click();
  await unitPage.locator('.comm-result.fail', { hasText: 'failed: charging' }).waitFor();
  assert.equal(await unitPage.locator('li[data-check="charge"] .detail').textContent(), 'solar monitor does not answer on I²C');
  assert.equal(await unitPage.locator('li.pass').count(), 5);
  await unitPage.locator('[data-field="commissioned"].fail').waitFor();
  await unitPage.locator('.audit-list li.ok', { hasText: 'Technician Wang' }).waitFor();
  assert.match(
    (await unitPage.locator('.audit-list li').first().textContent()) ?? '',
    /Technician Wang \(technician\) run commissioning → ok/,
  );
  await unitPage.locator('button[data-act="commission"]').scrollIntoViewIfNeeded();
  await p.shot('actions-phone-commissioned');

  // Claim the new unit on site: code from the label and the site (its grid cell follows from it); credentials once.
  await page.goto(`${fleet.base}/#/claim`);
  const form = page.locator('form.claim');
  await form.waitFor();
  await form.locator('input[name="code"]').fill(claimCode.toLowerCase().replaceAll('-', ' '));
  await form.locator('input[name="siteName"]').fill('Hulan bridge site');
  await form.locator('input[name="lat"]').fill('45.8897');
  await form.locator('input[name="lon"]').fill('126.5851');
  assert.equal(await form.locator('input[name="gridCell"]').count(), 0, 'no cell to type: the grid places the site');
  assert.ok((await height(form.locator('button[type="submit"]'))) >= 44);
  await form.locator('button[type="submit"]').click();
  await form.locator('.claim-result.ok', { hasText: 'Claimed hrb-005' }).waitFor();
  assert.match((await form.locator('.claim-result').textContent()) ?? '', /hrb-005 \/ \S{20,}/);
  const claimed = (await api('GET', '/api/registry/units/hrb-005', tech)).body;
  assert.deepEqual([claimed.status, (claimed.site as { name: string }).name], ['active', 'Hulan bridge site']);
  await page.goto(`${fleet.base}/#/`);
  await page.locator('article.card[data-unit="hrb-005"] [data-field="liveness"]', { hasText: 'claimed, never heard' }).waitFor();
  await page.locator('article.card[data-unit="hrb-005"] [data-field="grid"]', { hasText: /^grid songbei-g\d{3}-\d{3}$/ }).waitFor();
  await p.shot('actions-phone-claimed');

  // A commander asks for a reboot: asked to confirm, then refused by the fleet, in words.
  const c = await openPage(browser, `${fleet.base}/#token=${commander}`);
  await c.page.goto(`${fleet.base}/#/unit/hrb-001`);
  const cPage = c.page.locator('#unit-view .unit-page[data-unit="hrb-001"]');
  await cPage.waitFor();
  assert.match((await cPage.locator('button[data-act="reboot"]').textContent()) ?? '', /needs maintainer/);
  await cPage.locator('button[data-act="reboot"]').click();
  await c.page.locator('dialog.confirm', { hasText: 'Reboot hrb-001?' }).waitFor();
  await c.page.locator('dialog.confirm button.danger').click();
  await cPage
    .locator('.action-result.refused', { hasText: 'Refused: your role (commander) may not do this; it needs a maintainer.' })
    .waitFor();
  await cPage.locator('.audit-list li.refused', { hasText: 'Commander Zhao' }).waitFor();
  assert.match((await cPage.locator('.audit-list li.refused').textContent()) ?? '', /reboot → FORBIDDEN/);
  await c.shot('actions-commander-refused');
  // Cancelling asks nothing of the fleet.
  await cPage.locator('button[data-act="revoke"]').click();
  await c.page.locator('dialog.confirm button:not(.danger)').click();
  const audit = (await api('GET', '/api/units/hrb-001/audit', commander)).body.entries as {
    action: string;
    result: string;
    actor: string;
  }[];
  assert.deepEqual(
    audit.map((e) => [e.actor, e.action, e.result]),
    [
      ['Commander Zhao', 'reboot', 'FORBIDDEN'],
      ['Technician Wang', 'commission', 'ok'],
    ],
  );
  assert.deepEqual(
    seen.map((s) => s.split(':')[0]),
    ['commission'],
  );
  assert.deepEqual([...p.errors, ...c.errors], []);
});
