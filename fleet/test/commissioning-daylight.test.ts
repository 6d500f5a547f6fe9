/**
 * A unit commissioned at night, its charge judged by the unit at first light: the card, the unit
 * page and the CLI's unit detail move from "to judge in daylight" to the daylight verdict with
 * when it was judged, in English and Chinese.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommissionItem, encodeResponse } from '@shouwang/protocol';
import { clockIn, unitDetail } from '../src/cli/format.ts';
import { openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, responder, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'dashboard-admin-token';
// The run is recorded at the fleet's now; first light comes 97 minutes after it (a Harbin dawn from 07:00).
const NIGHT_RUN = Date.now();
const FIRST_LIGHT = NIGHT_RUN + 97 * 60_000;
const hhmm = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
  FIRST_LIGHT,
);
const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(FIRST_LIGHT);
const NIGHT: CommissionItem[] = [
  { check: 'gps', pass: true, detail: '3d fix, 11 satellites, HDOP 0.8', value: 11 },
  { check: 'signal', pass: true, detail: 'lte -79 dBm (4/5 bars)', value: -79 },
  { check: 'battery', pass: true, detail: '78 % at 13.1 V', value: 78 },
  {
    check: 'charge',
    pass: false,
    pending: true,
    detail: 'solar 0 W, wind 0 W: sun 3° below the horizon and the turbine still, cannot be judged now: run it again in daylight',
    value: 0,
  },
  { check: 'camera', pass: true, detail: 'still captured, 38 KiB', value: 38_912 },
  { check: 'upload', pass: true, detail: 'test message stored by the gateway in 212 ms', value: 212 },
];
const DAYLIGHT: CommissionItem = { check: 'charge', pass: true, detail: 'solar 4.1 W, wind 0 W', value: 4.1, judgedAt: FIRST_LIGHT };

test('the card, the unit page and the CLI show the daylight verdict and when it was judged, in both languages', {
  timeout: 90_000,
}, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  await responder(t, broker.url, 'hrb-001', (_cmd, id) => [
    encodeResponse('commission', { id, status: 'ok', data: { ts: NIGHT_RUN, items: NIGHT } }),
  ]);
  const unit = await unitClient(t, broker.url, 'hrb-001-status');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now() });
  await send(unit, 'hrb-001', 'location', { seq: 1, ts: Date.now(), lat: 45.7792, lon: 126.6183, fix: '3d' });
  await waitFor(() => fleet.state.get('hrb-001') !== undefined);
  assert.equal((await api('POST', '/api/units/hrb-001/commands/commission', ADMIN, {})).status, 200);

  const at = clockIn('Asia/Shanghai');
  assert.ok(at);
  const before = fleet.state.get('hrb-001');
  assert.ok(before);
  assert.match(unitDetail(before, Date.now(), at), /commissioned\s+to judge in daylight: charge\s+\S+ \S+ GMT\+8\n/);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { lang: 'en' });
  const { page } = p;
  const commissioned = page.locator('article.card[data-unit="hrb-001"] [data-field="commissioned"]');
  await commissioned.locator('text=to judge in daylight').waitFor();

  await send(unit, 'hrb-001', 'event', {
    seq: 9,
    ts: FIRST_LIGHT,
    kind: 'commission',
    to: 'pass',
    reason: 'daylight re-check: charge passed, solar 4.1 W, wind 0 W',
    item: DAYLIGHT,
  });
  await commissioned.locator('text=judged in daylight').waitFor();
  assert.match(
    (await commissioned.textContent()) ?? '',
    new RegExp(`^✓ all checks passed · [^·]+ · ☀ charging judged in daylight .*${hhmm}$`),
  );
  assert.equal(await commissioned.getAttribute('class').then((c) => c?.includes('pass')), true);
  const after = fleet.state.get('hrb-001');
  assert.ok(after);
  assert.match(
    unitDetail(after, Date.now(), at),
    new RegExp(`commissioned\\s+all checks passed\\s+\\S+ \\S+ GMT\\+8\\s+\\(charge judged in daylight ${day} ${hhmm} GMT\\+8: pass\\)\n`),
  );
  await p.shot('commissioning-daylight-card-en');

  await page.locator('article.card[data-unit="hrb-001"]').click();
  const unitPage = page.locator('#unit-view .unit-page[data-unit="hrb-001"]');
  await unitPage.locator('li[data-check="charge"].pass').waitFor();
  assert.match(
    (await unitPage.locator('li[data-check="charge"] .detail').textContent()) ?? '',
    new RegExp(`^solar 4\\.1 W, wind 0 W · ☀ judged in daylight .*${hhmm}$`),
  );
  assert.match((await unitPage.locator('.comm-result').textContent()) ?? '', new RegExp(`☀ charging judged in daylight .*${hhmm}$`));
  await unitPage.locator('section.commissioning').scrollIntoViewIfNeeded();
  await p.shot('commissioning-daylight-unit-en');

  await page.selectOption('#lang', 'zh-CN');
  await unitPage.locator('li[data-check="charge"] .detail', { hasText: '日间' }).waitFor();
  assert.match((await unitPage.locator('li[data-check="charge"] .detail').textContent()) ?? '', new RegExp(`☀ 日间 .*${hhmm} 复检$`));
  assert.match((await unitPage.locator('[data-field="commissioned"]').textContent()) ?? '', new RegExp(`☀ .+已于日间 .*${hhmm} 复检$`));
  await unitPage.locator('section.commissioning').scrollIntoViewIfNeeded();
  await p.shot('commissioning-daylight-unit-zh');
  assert.deepEqual(p.errors, []);
});
