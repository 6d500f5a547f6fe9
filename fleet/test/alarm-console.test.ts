/**
 * The alarm console in Debian's Chromium over a real fleet, with 1,000 open alarms raised by units
 * through a broker: severity order, the flood banner of the district, late and chattering episodes
 * for what they are, acknowledge / shelve / comment by role, rows patched in place as the fleet
 * answers (never rebuilt), and interactions answered within 100 ms by the page's Event Timing.
 * Screenshots in test-artifacts/ at 1440×900 and 390×844, in both languages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordInteractions } from '../bench/dashboard.lib.ts';
import { intrusion } from './alarm-helpers.ts';
import { DESKTOP, openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'alarm-console-admin-token-0123456789';
const UNITS = 1000;
const unitId = (i: number) => `hrb-${String(i).padStart(4, '0')}`;

test('the alarm console with 1,000 open alarms: order, flood, late and chatter, answers by role, keyed rows, 100 ms', {
  timeout: 240_000,
}, async (t) => {
  let now = Date.now();
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, clock: { now: () => now } });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const commander = await token('commander', 'Commander Zhao');
  const operator = await token('department-operator', 'Operator Chen');

  const units = await unitClient(t, broker.url, 'console-units');
  const t0 = now;
  await Promise.all(
    Array.from({ length: UNITS }, (_, i) =>
      send(units, unitId(i), 'alarm', {
        ...intrusion(1, `motion-${i}`, { ts: t0 - (UNITS - i) * 10 }),
        severity: i % 50 === 7 ? 'critical' : i % 3 ? 'major' : 'minor',
      }),
    ),
  );
  // Arrived a quarter of an hour after it happened (a back-filled burst): late, with both times.
  await send(units, 'hrb-late', 'alarm', { ...intrusion(1, 'tamper-late', { ts: t0 - 15 * 60_000 }), kind: 'tamper' });
  // Raised, cleared, raised again within the chatter window: one episode.
  await send(units, 'hrb-chat', 'alarm', { ...intrusion(1, 'tilt-1', { ts: t0 }), kind: 'tilt', severity: 'minor' });
  await send(units, 'hrb-chat', 'alarm', {
    ...intrusion(2, 'tilt-1', { ts: t0 + 1000 }),
    kind: 'tilt',
    severity: 'minor',
    state: 'cleared',
  });
  await send(units, 'hrb-chat', 'alarm', { ...intrusion(3, 'tilt-2', { ts: t0 + 2000 }), kind: 'tilt', severity: 'minor' });
  const open = async () =>
    (await api('GET', '/api/alarms?limit=5000', commander)).body.alarms as {
      episode: string;
      unitId: string;
      kind: string;
      chatter: number;
    }[];
  await waitFor(
    async () => (await open()).length === UNITS + 2 && (await open()).some((a) => a.unitId === 'hrb-chat' && a.chatter === 1),
    60_000,
  );
  // A unit silent past its promised contact and the grace: offline; its camera lost after that is inhibited.
  await send(units, 'hrb-dark', 'presence', { state: 'offline', ts: t0 - 60 * 60_000, nextContactBy: t0 - 40 * 60_000 });
  await waitFor(() => fleet.state.get('hrb-dark')?.presence?.state === 'offline');
  fleet.state.sweep();
  await fleet.loop.watcher.idle();
  await waitFor(async () => (await open()).some((a) => a.unitId === 'hrb-dark' && a.kind === 'unit-offline'));
  fleet.state.setCommissioning('hrb-dark', { at: now, passed: false, failed: ['camera'], pending: [] });
  await fleet.loop.watcher.idle();
  await waitFor(async () => (await open()).some((a) => a.unitId === 'hrb-dark' && a.kind === 'camera-lost'));
  const total = (await open()).length;

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: DESKTOP });
  const { page } = p;
  await page.goto(`${fleet.base}/#/alarms`);
  const rows = page.locator('article.alarm');
  await waitFor(async () => (await rows.count()) === total, 30_000);
  // The district by the grid file's name, on the banner and on its rows.
  await page.locator('.flood-banner[data-district="daoli"]', { hasText: 'Alarm flood in Daoli 道里' }).waitFor();
  assert.equal(await page.locator('article.alarm .district').first().textContent(), 'Daoli 道里');

  // Severity first (critical on top), then newest first (the rows laid out carry their place).
  type El = { style: { order: string }; className: string; kept?: boolean };
  const firstRows = await page.locator('article.alarm:not([hidden])').evaluateAll((els) =>
    (els as unknown as El[])
      .sort((a, b) => Number(a.style.order) - Number(b.style.order))
      .slice(0, 21)
      .map((e) => e.className.split(' ')[1]),
  );
  assert.deepEqual(firstRows.slice(0, 20), Array(20).fill('sev-critical'), '20 critical alarms on top');
  assert.equal(firstRows[20], 'sev-major');
  const late = page.locator('article.alarm', { has: page.locator('a.unit', { hasText: 'hrb-late' }) });
  assert.match((await late.locator('.flags .late').textContent()) ?? '', /late: arrived 15 min after it happened/);
  const chat = page.locator('article.alarm', { has: page.locator('a.unit', { hasText: 'hrb-chat' }) });
  assert.equal(await chat.locator('.flags .chatter').textContent(), 'chattering: 1 more raise folded in');
  const camera = page.locator('article.alarm', { has: page.locator('a.unit', { hasText: 'hrb-dark' }) }).filter({ hasText: 'camera lost' });
  assert.equal(await camera.locator('.flags .inhibited').textContent(), "inhibited by the unit's alarm: unit offline");
  assert.match((await camera.getAttribute('class')) ?? '', /set-aside/);
  await p.shot('alarm-console-1000-desktop');

  // Answers: filter, acknowledge, shelve with a reason, comment — timed by the page itself.
  const interactions = await recordInteractions(page);
  const critical = rows.filter({ has: page.locator('a.unit', { hasText: unitId(7) }) }).first();
  const other = rows.filter({ has: page.locator('a.unit', { hasText: unitId(57) }) }).first();
  // Rows are keyed: a row drawn once is the same element after the fleet's answers change it.
  await rows.evaluateAll((els) => {
    for (const el of els as unknown as El[]) el.kept = true;
  });
  await page.locator('.alarm-filter').pressSequentially('hrb-late', { delay: 80 });
  await waitFor(async () => (await page.locator('article.alarm:not([hidden])').count()) === 1);
  await late.locator('button[data-do="comment"]').click();
  await late.locator('form.comment input[name="text"]').fill('site manager called, a delivery');
  await late.locator('form.comment button[type="submit"]').click();
  await late.locator('.result', { hasText: 'comment added' }).waitFor();
  assert.match((await late.locator('.comments li').textContent()) ?? '', /commander · tok_\w+: site manager called, a delivery$/);
  await page.locator('.alarm-filter').fill('');
  await critical.locator('button[data-do="ack"]').click();
  await critical.locator('.state', { hasText: 'acknowledged' }).waitFor();
  await critical.locator('.flags .acked', { hasText: /acknowledged by commander · tok_/ }).waitFor();
  await other.locator('button[data-do="shelve"]').click();
  await other.locator('form.shelve input[name="reason"]').fill('crane works on site today');
  await other.locator('form.shelve select[name="minutes"]').selectOption('60');
  await other.locator('form.shelve button[type="submit"]').click();
  await other.locator('.flags .shelved', { hasText: 'crane works on site today' }).waitFor({ state: 'attached' });
  const done = (await interactions()).map((i) => i.duration).sort((a, b) => a - b);
  const median = done[Math.floor(done.length / 2)] ?? 0;
  const worst = done.at(-1) ?? 0;
  t.diagnostic(`${total} alarms on the console; interactions over 16 ms: ${done.join(', ') || 'none'} ms`);
  // One shared 2-core machine: an interaction may wait on another process; most answer in 100 ms.
  assert.ok(median <= 100, `median interaction ${median} ms`);
  assert.ok(worst <= 400, `slowest interaction ${worst} ms`);
  const kept = await rows.evaluateAll((els) => (els as unknown as El[]).filter((el) => el.kept).length);
  assert.equal(kept, total, 'every row is the element first drawn: patched, never rebuilt');
  // Shelved goes below the rest, dimmed; the shelf is on the fleet with its reason.
  // Below every alarm not set aside (the inhibited ones share the bottom with it).
  const inhibited = (await open()).filter((a) => a.unitId === 'hrb-dark' && a.kind !== 'unit-offline').length;
  assert.match((await other.getAttribute('class')) ?? '', /set-aside/);
  // Set aside below the page, found again by what it says, in its place at the bottom.
  await page.locator('.alarm-filter').fill('shelved');
  await other.waitFor();
  assert.equal(await page.locator('article.alarm:not([hidden])').count(), 1);
  assert.ok(
    Number(await other.evaluate((e) => (e as unknown as El).style.order)) >= total - 1 - inhibited,
    'the shelved alarm is at the bottom',
  );
  // Nothing more to show: no "show more" button, not even an empty bar.
  assert.equal(await page.locator('button.more').isVisible(), false, 'the hidden "more" button takes no room');
  await page.locator('.alarm-filter').fill('');
  const shelved = (await open()).find((a) => a.unitId === unitId(57));
  assert.ok(shelved);
  const stored = (await api('GET', `/api/alarms/${encodeURIComponent(shelved.episode)}`, commander)).body.alarm as { shelveReason: string };
  assert.equal(stored.shelveReason, 'crane works on site today');

  // A department operator may not answer alarms: refused in words, nothing changed.
  const o = await openPage(browser, `${fleet.base}/#token=${operator}`, { viewport: PHONE, lang: 'zh-CN' });
  await o.page.goto(`${fleet.base}/#/alarms`);
  await o.page.locator('.flood-banner', { hasText: '告警泛滥' }).waitFor();
  // Alarms counted as alarms (条), not as the unit list's 台.
  assert.match((await o.page.locator('button.more').textContent()) ?? '', /^已显示 100 \/ \d+ 条告警 · 再显示 100 条$/);
  assert.equal(await o.page.locator('.read-only').textContent(), '你的角色（部门处置员）可查看告警但不能处理，需要指挥员。');
  assert.equal(await page.locator('.read-only').isHidden(), true, 'a commander is not told so');
  const oRow = o.page.locator('article.alarm', { has: o.page.locator('a.unit', { hasText: unitId(107) }) });
  await oRow.locator('button[data-do="ack"]').click();
  await oRow.locator('.result.refused', { hasText: '需要指挥员。' }).waitFor();
  await oRow.scrollIntoViewIfNeeded();
  await o.shot('alarm-console-zh-phone');

  // A day on, by the fleet's clock: untouched alarms are flagged stale at the next full answer
  // (time alone pushes nothing): the console asks in full when it is opened again.
  now += 25 * 3_600_000;
  await page.goto(`${fleet.base}/#/`);
  await page.goto(`${fleet.base}/#/alarms`);
  await late.locator('.flags .stale').waitFor({ state: 'attached', timeout: 20_000 });
  await p.shot('alarm-console-stale-desktop');
  // Switched to Chinese in place: every row relabelled (kept rows, new words), the banner too.
  await page.selectOption('#lang', 'zh-CN');
  // A day of silence by the fleet's clock: every unit is offline at once, a flood outside any district.
  await page.locator('.flood-banner[data-district="(none)"]', { hasText: '不在任何区内 告警泛滥' }).waitFor();
  await critical.locator('.kind', { hasText: '入侵' }).waitFor();
  assert.equal(await late.locator('.flags .stale').textContent(), '陈旧：长时间无人处理');
  await page.locator('.flood').scrollIntoViewIfNeeded();
  await p.shot('alarm-console-zh-desktop');
  for (const x of [p, o]) assert.deepEqual(x.errors, []);
});
