/**
 * The ticket page's timeline says what a merge brought, in Debian's Chromium: a repeat of the
 * ticket's own alarm reads "repeat merged"; an episode that explains the ticket and joined it (a
 * towed unit's geofence breach into the fleet's left-site ticket) names its alarm and the deadline
 * it tightened to, in both languages. Screenshots in test-artifacts/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAOLI } from './alarm-helpers.ts';
import { DESKTOP, openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'ticket-merge-admin-token-0123456789';
/** Monday 23 November 2026, 10:00 in Harbin. */
const T0 = Date.parse('2026-11-23T02:00:00Z');

test('a joined alarm is named on the ticket timeline with the deadline it tightened to; a repeat reads as one', {
  timeout: 120_000,
}, async (t) => {
  let now = T0;
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, clock: { now: () => now } });
  const unit = await unitClient(t, broker.url, 'hrb-701');
  await fleet.loop.alarms.signal({
    unitId: 'hrb-701',
    kind: 'left-site',
    occurrence: String(T0),
    state: 'raised',
    severity: 'major',
    source: 'fleet',
    ts: T0,
    receivedAt: T0,
    ...DAOLI,
  });
  now = T0 + 60_000;
  const breach = (seq: number) =>
    send(unit, 'hrb-701', 'alarm', {
      seq,
      ts: T0 + 30_000,
      id: 'geofence-1',
      kind: 'geofence',
      severity: 'critical',
      state: 'raised',
      ...DAOLI,
    });
  await breach(1);
  const api = apiClient(fleet.base);
  const ticket = async () => ((await api('GET', '/api/tickets', ADMIN)).body.tickets as { id: string; alarmCount: number }[])[0];
  await waitFor(async () => (await ticket())?.alarmCount === 2);
  await breach(2); // the same occurrence again: a repeat of the joined alarm, not of the ticket's kind
  await waitFor(async () => (await ticket())?.alarmCount === 3);
  const id = (await ticket())?.id as string;

  const browser = await startBrowser(t);
  for (const [lang, joined, tightened] of [
    ['en', 'alarm merged: left geofence', 'now due 11/23, 14:01 (critical)'],
    ['zh-CN', '合并告警：越出电子围栏', '期限提前至 11/23 14:01（紧急）'],
  ] as const) {
    const d = await openPage(browser, `${fleet.base}/#token=${ADMIN}`, { viewport: DESKTOP, lang });
    await d.page.goto(`${fleet.base}/#/ticket/${id}`);
    const merges = d.page.locator('.timeline li[data-action="merge"] b');
    await merges.nth(1).waitFor();
    const [first, second] = await merges.allTextContents();
    assert.equal(first, `${joined} · ${tightened}`, lang);
    assert.equal(second, joined, `${lang}: the repeat tightened nothing`);
    await d.shot(`ticket-merge-${lang}`);
  }
});
