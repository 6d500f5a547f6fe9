/**
 * Chinese and English: switching to 中文 leaves no English label on the main views (checked
 * against the UI's own list of strings), is remembered, and times read in the fleet's zone
 * (Asia/Shanghai) while the browser sits in UTC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { EN, ZH } from '../web/strings.ts';
import { openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient } from './helpers.ts';

const ADMIN = 'dashboard-admin-token';

/** The literal pieces of every English label that Chinese says differently (3+ letters, placeholders cut out). */
const ENGLISH = [
  ...new Set(
    (Object.keys(EN) as (keyof typeof EN)[])
      .filter((k) => EN[k] !== ZH[k])
      .flatMap((k) => EN[k].split(/\{\w+\}/))
      .map((s) => s.trim().replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, ''))
      .filter((s) => /[A-Za-z]{3,}/.test(s)),
  ),
];

/** Everything a reader sees or hears on the page: its text, placeholders, accessible names and tooltips. */
async function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const doc = (
      globalThis as unknown as {
        document: { body: { innerText: string }; querySelectorAll(s: string): Iterable<{ getAttribute(a: string): string | null }> };
      }
    ).document;
    const attrs = [...doc.querySelectorAll('[placeholder], [aria-label], [title]')].flatMap((e) =>
      ['placeholder', 'aria-label', 'title'].map((a) => e.getAttribute(a) ?? ''),
    );
    // biome-ignore lint/performance/useDomNodeTextContent: what a reader sees; hidden nodes' text is not on the page
    return `${doc.body.innerText}\n${attrs.join('\n')}`;
  });
}

function englishLeft(text: string): string[] {
  return ENGLISH.filter((s) => new RegExp(`\\b${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(text));
}

test('switch to Chinese: no English label left on the main views, times in Asia/Shanghai', { timeout: 60_000 }, async (t) => {
  assert.ok(ENGLISH.length > 100, 'the list of UI strings is the dictionary');
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  await api('POST', '/api/registry/units', ADMIN, {
    id: 'hrb-001',
    site: { name: '松花江堤防工地', lat: 45.7792, lon: 126.6183 },
    gridCell: 'HRB-C4',
  });
  await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-002' });
  const unit = await unitClient(t, broker.url, 'hrb-001');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now() });
  await send(unit, 'hrb-001', 'power', {
    seq: 1,
    ts: Date.now() - 4 * 60_000,
    soc: 12,
    batteryV: 12.1,
    solarW: 0,
    windW: 1,
    loadW: 4,
    state: 'scheduled-modem',
    timeToEmptyH: 30,
  });
  await send(unit, 'hrb-001', 'location', { seq: 2, ts: Date.now(), lat: 45.7792, lon: 126.6183, fix: '3d' });
  await send(unit, 'hrb-001', 'link', { seq: 3, ts: Date.now(), type: 'lte', rssiDbm: -95, bars: 2, bytesMonth: 1_200_000 });
  // 03:05 UTC is 11:05 in Harbin.
  fleet.state.setCommissioning('hrb-001', { at: Date.UTC(2026, 10, 23, 3, 5), passed: false, failed: ['camera'], pending: [] });

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { lang: 'en' });
  const { page } = p;
  const card = page.locator('article.card[data-unit="hrb-001"]');
  await card.locator('[data-field="commissioned"]', { hasText: 'failed: camera' }).waitFor();
  assert.match((await card.locator('[data-field="commissioned"]').textContent()) ?? '', /11:05/);
  assert.ok(englishLeft(await visibleText(page)).length > 10, 'the check finds English when it is there');

  await page.selectOption('#lang', 'zh-CN');
  await card.locator('[data-field="commissioned"]', { hasText: '未通过：摄像头' }).waitFor();
  assert.match((await card.locator('[data-field="commissioned"]').textContent()) ?? '', /11:05/);
  assert.match((await card.locator('[data-field="soc"]').textContent()) ?? '', /^12 % · 12\.10 V · 4 分钟前$/);
  assert.equal(await card.locator('[data-field="rung"]').textContent(), '定时联网');
  assert.equal(await page.locator('article.card[data-unit="hrb-002"] [data-field="liveness"]').textContent(), '已登记，待认领');
  assert.deepEqual(englishLeft(await visibleText(page)), [], 'list view');
  await p.shot('dashboard-zh-desktop');

  // Remembered: a reload (and the unit page) stay in Chinese.
  await page.reload();
  await card.click();
  await page.locator('#unit-view .unit-page[data-unit="hrb-001"]').waitFor();
  await page.locator('#unit-view .audit-list li time').first().waitFor();
  assert.deepEqual(englishLeft(await visibleText(page)), [], 'unit page');
  await page.setViewportSize(PHONE);
  await p.shot('dashboard-zh-unit-phone');
  await page.goto(`${fleet.base}/#/claim`);
  await page.locator('form.claim').waitFor();
  assert.deepEqual(englishLeft(await visibleText(page)), [], 'claim page');
  assert.deepEqual(p.errors, []);
});

test('an unknown dashboard.timeZone stops the start with the key and the value', async (t) => {
  const broker = await startBroker(t);
  await assert.rejects(
    startTestFleet(t, broker.url, { dashboard: { timeZone: 'Asia/Harbin-Songbei' } }),
    /dashboard\.timeZone: unknown time zone 'Asia\/Harbin-Songbei'/,
  );
});
