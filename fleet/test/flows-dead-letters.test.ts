/**
 * The dashboard's dead-letter view in Chromium: ticket events an outside system refused for good
 * are listed with the answer, the system and a link to the ticket; a dispatcher retries one (it
 * leaves the list and is leased again), a commander sees the list without a retry; both languages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLOWS_ROUTES, type TicketEvent } from '@shouwang/protocol';
import { intrusion } from './alarm-helpers.ts';
import { openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-dead-letter-view-0123';

test('dead letters are listed with their reason and ticket; a dispatcher retries one, a commander only reads', {
  timeout: 120_000,
}, async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: `${role} Li` })).body.token as string;
  const [flows, dispatcher, commander] = [await token('flows'), await token('dispatcher'), await token('commander')];
  for (const [unitId, n] of [
    ['hrb-901', 1],
    ['hrb-902', 2],
  ] as const) {
    const unit = await unitClient(t, broker.url, unitId);
    await send(unit, unitId, 'alarm', intrusion(n, `${unitId}-motion-${n}`));
  }
  let events: TicketEvent[] = [];
  await waitFor(async () => {
    events = ((await api('POST', FLOWS_ROUTES.lease, flows, { limit: 10 })).body.events as TicketEvent[]) ?? [];
    return events.length === 2;
  }, 10_000);
  const [a, b] = events as [TicketEvent, TicketEvent];
  const settled = await api('POST', FLOWS_ROUTES.settle, flows, {
    settlements: [
      {
        seq: a.seq,
        outcome: 'dead-letter',
        target: '12345',
        reason: '12345 refused: 422 {"error":"category public-security not accepted"}',
      },
      { seq: b.seq, outcome: 'dead-letter', target: 'open311', reason: 'open311 refused: 400 service_code unknown' },
    ],
  });
  assert.equal(settled.status, 200);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${dispatcher}`);
  const { page } = p;
  await page.locator('#dead-letters-link').waitFor();
  await p.shot('flows-dead-letters-nav');
  await page.locator('#dead-letters-link').click();
  const rows = page.locator('.dead-letters tbody tr');
  await rows.nth(1).waitFor();
  assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['12345 platform', 'Open311']);
  assert.match((await rows.nth(0).locator('td.reason').textContent()) ?? '', /category public-security not accepted/);
  assert.equal(await rows.nth(0).locator('a').getAttribute('href'), `#/ticket/${a.ticket.id}`);
  assert.equal(await rows.nth(0).locator('td:nth-child(3)').textContent(), 'new ticket');
  await p.shot('flows-dead-letters-dispatcher');

  await rows.nth(0).locator('button[data-retry]').click();
  await page.locator('.dead-letters .outcome', { hasText: `#${a.seq}: queued again` }).waitFor();
  assert.equal(await rows.count(), 1, 'the retried one left the list');
  const again = (await api('POST', FLOWS_ROUTES.lease, flows, { limit: 10 })).body.events as TicketEvent[];
  assert.deepEqual(
    again.map((e) => e.seq),
    [a.seq],
    'leased again',
  );
  await p.shot('flows-dead-letters-retried');

  const c = await openPage(browser, `${fleet.base}/#token=${commander}`, { lang: 'zh-CN' });
  await c.page.goto(`${fleet.base}/#/dead-letters`);
  await c.page.locator('.dead-letters tbody tr').first().waitFor();
  assert.equal(await c.page.locator('.dead-letters button[data-retry]').count(), 0, 'no retry for a commander');
  assert.match((await c.page.locator('.dead-letters').textContent()) ?? '', /派遣员（或督办员）可重新发送/);
  assert.equal(await c.page.locator('.dead-letters td:nth-child(2)').first().textContent(), 'Open311');
  await c.shot('flows-dead-letters-commander-zh');
  // The fleet refuses the retry to a commander whatever the page shows.
  assert.equal((await api('POST', `/api/flows/dead-letters/${b.seq}/retry`, commander)).status, 403);
  assert.deepEqual([...p.errors, ...c.errors], []);
});
