/**
 * The ticket queue, the ticket page and the KPI panel in Debian's Chromium, over a real fleet whose
 * tickets come from units' alarms through a broker. The fleet runs on its own clock (months away
 * from the browser's): the lights follow the fleet's. Filters live in the address; moves go through
 * the API by role, a commander is refused a dispatcher's move in words, a stale page's move is a
 * 409 said in words. Screenshots in test-artifacts/ at 1440×900 and 390×844, in both languages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAOLI, intrusion } from './alarm-helpers.ts';
import { DESKTOP, openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'ticket-views-admin-token-0123456789';
/** Tuesday 2 June 2026, 10:00 in Harbin: a working day, half a year from the browser's clock. */
const T0 = Date.parse('2026-06-02T02:00:00Z');
const NANGANG = { lat: 45.6863, lon: 126.6312 };
/** Outside every district: the city's command centre dispatches it. */
const NOWHERE = { lat: 47.5, lon: 129.5 };

test('ticket queue, ticket page and KPI panel: lights on the fleet clock, filters in the address, moves by role', {
  timeout: 240_000,
}, async (t) => {
  let now = T0;
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, clock: { now: () => now } });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const dispatcher = await token('dispatcher', 'Dispatcher Li');
  const operator = await token('department-operator', 'Operator Chen');
  const commander = await token('commander', 'Commander Zhao');

  const units = await unitClient(t, broker.url, 'ticket-view-units');
  await send(units, 'hrb-601', 'alarm', intrusion(1, 'motion-1', { ts: T0 }));
  await send(units, 'hrb-602', 'alarm', { ...intrusion(1, 'fire-1', { ts: T0, ...NANGANG }), kind: 'fire', severity: 'critical' });
  await send(units, 'hrb-603', 'alarm', { ...intrusion(1, 'tamper-1', { ts: T0, ...NOWHERE }), kind: 'tamper' });
  await send(units, 'hrb-601', 'alarm', intrusion(2, 'motion-2', { ts: T0, message: 'motion at the north gate' })); // a new occurrence: merged into the open ticket
  const tickets = async () =>
    (await api('GET', '/api/tickets', ADMIN)).body.tickets as { id: string; unitId: string; alarmCount: number }[];
  await waitFor(async () => {
    const l = await tickets();
    return l.length === 3 && l.find((x) => x.unitId === 'hrb-601')?.alarmCount === 2;
  });
  const idOf = async (unit: string) => (await tickets()).find((x) => x.unitId === unit)?.id as string;
  const [intrusionId, fireId, tamperId] = [await idOf('hrb-601'), await idOf('hrb-602'), await idOf('hrb-603')];

  const browser = await startBrowser(t);

  // The queue at the fleet's 10:00: all green, though the browser's own clock is half a year later.
  const d = await openPage(browser, `${fleet.base}/#token=${dispatcher}`, { viewport: DESKTOP });
  await d.page.goto(`${fleet.base}/#/tickets`);
  const row = (id: string) => d.page.locator(`a.ticket-row[data-ticket="${id}"]`);
  await row(tamperId).waitFor();
  const order = await d.page.locator('a.ticket-row').evaluateAll((els) =>
    els
      .map((e) => ({ id: e.getAttribute('data-ticket'), order: Number((e as unknown as { style: { order: string } }).style.order) }))
      .sort((a, b) => a.order - b.order)
      .map((e) => e.id),
  );
  assert.deepEqual(
    order,
    (await tickets()).map((x) => x.id),
    "in the API's order: soonest deadline first",
  );
  assert.equal(order[0], fireId, 'the fire (2 h) first');
  for (const id of [intrusionId, fireId, tamperId]) assert.equal(await row(id).getAttribute('data-light'), 'green', `${id} green at 10:00`);
  assert.match((await row(fireId).locator('.due').textContent()) ?? '', /06\/02, 12:00 \(in 2 h\)/);
  // The grid's areas by the names in the grid file (the id stays on hover and in the filters).
  assert.match(
    (await row(fireId).locator('.grid-path').textContent()) ?? '',
    /^Nangang 南岗 › nangang-s\S+ › nangang-c\S+ › Grid \d+-\d+$/,
  );
  assert.equal(await row(fireId).locator('.grid-path .seg').first().getAttribute('title'), 'nangang');
  await d.shot('tickets-queue-desktop');

  // 10:00 + 90 min: the fire's warning (half its 2 h); + 3 h: its deadline has passed, red.
  now = T0 + 90 * 60_000;
  await d.page.locator(`a.ticket-row[data-ticket="${fireId}"][data-light="yellow"]`).waitFor({ timeout: 15_000 });
  now = T0 + 3 * 3_600_000;
  await d.page.locator(`a.ticket-row[data-ticket="${fireId}"][data-light="red"]`).waitFor({ timeout: 15_000 });
  assert.equal(await row(intrusionId).getAttribute('data-light'), 'green', '8 working hours: still green at 13:00');
  assert.match((await row(fireId).locator('.light').textContent()) ?? '', /overdue/);

  // Filters: grid level and area, written to the address; the link opens the same queue elsewhere.
  await d.page.selectOption('.ticket-filters select[name="level"]', 'district');
  await d.page.fill('.ticket-filters input[name="area"]', 'nangang');
  await d.page.locator('.ticket-filters input[name="area"]').press('Enter');
  await waitFor(() => d.page.url().includes('district=nangang'));
  assert.equal(
    await d.page.locator('#ticket-areas option[value="nangang"]').getAttribute('label'),
    'Nangang 南岗',
    'the choice shows the name',
  );
  await d.page.locator(`a.ticket-row[data-ticket="${intrusionId}"]`).waitFor({ state: 'detached' });
  const shared = d.page.url();
  const other = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: PHONE, lang: 'zh-CN' });
  await other.page.goto(shared);
  await other.page.locator(`a.ticket-row[data-ticket="${fireId}"][data-light="red"]`).waitFor();
  assert.equal(await other.page.locator('a.ticket-row').count(), 1, 'the shared link shows the same one ticket');
  assert.equal(await other.page.inputValue('.ticket-filters input[name="area"]'), 'nangang');
  assert.match((await other.page.locator(`a.ticket-row[data-ticket="${fireId}"] .light`).textContent()) ?? '', /红灯超期/);
  await other.shot('tickets-queue-zh-phone');
  await d.page.selectOption('.ticket-filters select[name="department"]', 'Daoli 道里 public security sub-bureau');
  await waitFor(() => d.page.url().includes('department=Daoli'));
  await d.page.locator('button.clear').click();
  await waitFor(() => d.page.url().endsWith('#/tickets'));
  await row(intrusionId).waitFor();

  // A commander on the ticket waiting for its dispatcher: the dispatch is marked and refused in words.
  const c = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: DESKTOP });
  await c.page.goto(`${fleet.base}/#/ticket/${tamperId}`);
  const cDispatch = c.page.locator('button[data-move="dispatch"]');
  await cDispatch.waitFor();
  assert.match((await cDispatch.textContent()) ?? '', /needs dispatcher/);
  await cDispatch.click();
  await c.page
    .locator('.ticket-actions .result.refused', { hasText: 'Refused: your role (commander) may not do this; it needs a dispatcher.' })
    .waitFor();
  await c.shot('ticket-commander-refused');
  assert.equal(((await api('GET', `/api/tickets/${tamperId}`, ADMIN)).body.ticket as { state: string }).state, 'reported');

  // The dispatcher sends it to a department; the operator returns it as misrouted (asked first).
  await d.page.goto(`${fleet.base}/#/ticket/${tamperId}`);
  const page = d.page.locator('#ticket-view');
  // Eight working hours from Tuesday 10:00 end on Wednesday: green at 13:00.
  await page.locator(`.ticket-head[data-ticket="${tamperId}"][data-light="green"]`).waitFor();
  assert.equal(await page.locator('[data-field="department"]').textContent(), 'not dispatched yet');
  await page.locator('input[name="department"]').fill('Daoli 道里 urban management bureau');
  await page.locator('button[data-move="dispatch"]').click();
  await page.locator('.ticket-actions .result.ok', { hasText: 'dispatch: done' }).waitFor();
  assert.equal(await page.locator('[data-field="department"]').textContent(), 'Daoli 道里 urban management bureau');

  const o = await openPage(browser, `${fleet.base}/#token=${operator}`, { viewport: PHONE });
  await o.page.goto(`${fleet.base}/#/ticket/${tamperId}`);
  const op = o.page.locator('#ticket-view');
  await op.locator('button[data-move="return"]').click();
  await op.locator('.ticket-actions .result.refused', { hasText: 'Give a reason first.' }).waitFor();
  await op.locator('input[name="reason"]').fill('not ours: private courtyard');
  await op.locator('button[data-move="return"]').click();
  await o.page.locator('dialog.confirm', { hasText: `Send ticket ${tamperId} back to the dispatcher as misrouted?` }).waitFor();
  await o.page.locator('dialog.confirm button.danger').click();
  await op.locator('.ticket-actions .result.ok', { hasText: 'return to dispatcher: done' }).waitFor();
  await op.locator('.badge.state', { hasText: 'returned' }).waitFor();
  await o.shot('ticket-page-phone');

  // Re-dispatched by the dispatcher; signed for, handled, fed back by the operator; reopened as rework.
  await d.page.reload();
  await page.locator('button[data-move="dispatch"]').waitFor();
  assert.equal(
    await page.locator('.returned-by').textContent(),
    'Sent back by Daoli 道里 urban management bureau: not ours: private courtyard. Dispatch it to the department that should act.',
  );
  assert.equal(await page.locator('input[name="department"]').inputValue(), '', 'not offered the department that sent it back');
  await page.locator('input[name="department"]').fill('Daoli 道里 public security sub-bureau');
  await page.locator('button[data-move="dispatch"]').click();
  await page.locator('.badge.state', { hasText: 'dispatched' }).waitFor();
  // The operator's page still shows the ticket as returned: its "sign for" is gone, but a stale
  // page whose move the state no longer allows is answered 409, said in words.
  await o.page.reload();
  await op.locator('button[data-move="sign"]').click();
  await op.locator('.badge.state', { hasText: 'signed for' }).waitFor();
  await api('POST', `/api/tickets/${tamperId}/handle`, operator, {});
  await op.locator('button[data-move="handle"]').click();
  await op.locator('.ticket-actions .result.refused', { hasText: /^Not done: cannot handle a ticket that is handling/ }).waitFor();
  await op.locator('.badge.state', { hasText: 'handling' }).waitFor();
  await op.locator('input[name="reason"]').fill('gate chained, owner told');
  await op.locator('button[data-move="feedback"]').click();
  await op.locator('.badge.state', { hasText: 'feedback' }).waitFor();
  await d.page.reload();
  await page.locator('input[name="reason"]').fill('owner says the gate is open again');
  await page.locator('button[data-move="reopen"]').click();
  await d.page.locator('dialog.confirm button.danger').click();
  await page.locator('.badge.rework', { hasText: 'rework ×1' }).waitFor();
  const items = page.locator('.timeline li');
  assert.deepEqual(await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-action'))), [
    'discover',
    'report',
    'dispatch',
    'return',
    'dispatch',
    'sign',
    'handle',
    'feedback',
    'reopen',
  ]);
  // Times in Asia/Shanghai (the browser is in UTC); actor and reason on each move.
  assert.match((await items.nth(0).locator('time').textContent()) ?? '', /^06\/02, 10:00$/);
  assert.match(
    (await items.nth(3).textContent()) ?? '',
    /return to dispatcher · dispatched → returned · department operator · tok_\w+ · not ours: private courtyard/,
  );
  await d.shot('ticket-page-desktop');

  // The intrusion's page: merged repeats, the idempotency key, evidence without media yet.
  await d.page.goto(`${fleet.base}/#/ticket/${intrusionId}`);
  await page.locator(`.ticket-head[data-ticket="${intrusionId}"]`).waitFor();
  const intrusionView = (await api('GET', `/api/tickets/${intrusionId}`, ADMIN)).body.ticket as { idempotencyKey: string };
  assert.equal(await page.locator('[data-field="merged"]').textContent(), '1');
  assert.equal(await page.locator('[data-field="key"]').textContent(), intrusionView.idempotencyKey);
  assert.equal(await page.locator('[data-field="position"]').textContent(), `${DAOLI.lat.toFixed(5)}, ${DAOLI.lon.toFixed(5)}`);
  assert.equal(await page.locator('.no-media').textContent(), 'no media yet');
  // The unit's own words on the latest report, under a label (not a bare "·").
  assert.equal(await page.locator('dt', { hasText: 'unit says' }).locator('+ dd').textContent(), 'motion at the north gate');
  const z = await openPage(browser, `${fleet.base}/#token=${operator}`, { viewport: PHONE, lang: 'zh-CN' });
  await z.page.goto(`${fleet.base}/#/ticket/${intrusionId}`);
  await z.page.locator('#ticket-view .no-media', { hasText: '暂无影像' }).waitFor();
  await z.shot('ticket-page-zh-phone');

  // KPIs over the last 30 days of the fleet's clock, by district: what the API computes, drawn. The
  // period ends at the fleet's now, and the moves above were all made at it: a minute on counts them.
  now += 60_000;
  await d.page.goto(`${fleet.base}/#/kpis?days=30&level=district`);
  await d.page.locator('.kpi-table tbody tr').first().waitFor();
  const kpis = (await api('GET', `/api/kpis?from=${now - 30 * 86_400_000}&level=district`, ADMIN)).body.kpis as {
    key: string;
    tickets: number;
    signForRate: number | null;
    onTimeCloseRate: number | null;
    reworkRate: number | null;
    satisfaction: number | null;
    overdue: number;
    mergedRepeats: number;
  }[];
  assert.deepEqual(
    await d.page.locator('.kpi-table tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))),
    kpis.map((k) => k.key),
  );
  // Every figure of every group as the API has it.
  const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)} %`);
  assert.equal(await d.page.locator('.kpi-table tr[data-key="nangang"] th').textContent(), 'Nangang 南岗', 'a group by its name');
  for (const k of kpis) {
    const tr = d.page.locator(`.kpi-table tr[data-key="${k.key}"]`);
    const cells = await tr.locator('td').allTextContents();
    assert.deepEqual(
      cells.slice(0, 7),
      [
        String(k.tickets),
        pct(k.signForRate),
        pct(k.onTimeCloseRate),
        pct(k.reworkRate),
        pct(k.satisfaction),
        String(k.overdue),
        String(k.mergedRepeats),
      ],
      k.key,
    );
  }
  const none = d.page.locator('.kpi-table tr[data-key="(none)"]');
  assert.equal(await none.locator('td[data-kpi="reworkRate"]').textContent(), '100 %', 'the reopened ticket is rework');
  assert.equal(
    await d.page.locator('.kpi-table tr[data-key="nangang"] td[data-kpi="overdue"]').textContent(),
    '1',
    'the fire is past its deadline',
  );
  assert.equal(await d.page.locator('.kbar-chart').count(), 2);
  await d.shot('kpis-desktop');
  await d.page.selectOption('.kpi-filters select[name="level"]', 'department');
  await d.page.locator('.kpi-table tr[data-key="Daoli 道里 public security sub-bureau"]').waitFor();
  const zk = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: PHONE, lang: 'zh-CN' });
  await zk.page.goto(`${fleet.base}/#/kpis?days=30&level=district`);
  await zk.page.locator('.kpi-table th', { hasText: '按期办结率' }).first().waitFor();
  await zk.shot('kpis-zh-phone');

  for (const p of [d, other, c, o, z, zk]) assert.deepEqual(p.errors, []);
});
