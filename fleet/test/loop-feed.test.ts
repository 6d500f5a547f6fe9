/**
 * The alarm console, the ticket queue and the ticket page pushed, not polled, in Debian's
 * Chromium over the real gateway process and a fleet: an alarm a unit raises shows in an open
 * console with no full-list ask meanwhile (the page's requests are counted), an acknowledge in one
 * browser context shows in another's, a ticket's move shows in an open queue and ticket page, and a
 * stream dropped (a loopback relay between that page and the fleet cuts its connections) reconnects
 * and asks in full once.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { ADMIN, gatewaySystem, intrusion } from './alarm-helpers.ts';
import { DESKTOP, openPage, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, waitFor } from './helpers.ts';

/** A push reaches the page within about a second; this bound only fails a test that hangs, clearly. */
const PUSHED_MS = 5000;
const fullAsks = (requests: readonly string[], from: number, path: string) =>
  requests.slice(from).filter((u) => new URL(u).pathname === path).length;

/** A TCP relay to the fleet that can cut every connection and refuse new ones for a while: a link that drops. */
async function relay(t: TestContext, port: number) {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((c) => {
    if (down) return c.destroy();
    const up = connect(port, '127.0.0.1');
    const gone = () => {
      c.destroy();
      up.destroy();
      sockets.delete(c);
      sockets.delete(up);
    };
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('close', gone).on('error', gone);
    }
    c.pipe(up).pipe(c);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return {
    base: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
  };
}

test('pushed: a raised alarm, an acknowledge and a ticket move reach open views without a full-list ask; a dropped stream reconciles', {
  timeout: 180_000,
}, async (t) => {
  const { start, provision } = await gatewaySystem(t, 'loop-feed', '');
  const fleet = await start();
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const zhao = await token('commander', 'Commander Zhao');
  const wang = await token('commander', 'Commander Wang');
  const dispatcher = await token('dispatcher', 'Dispatcher Li');
  const unit = await provision(fleet.base, 'hrb-701');
  await send(unit, 'hrb-701', 'alarm', intrusion(1, 'motion-1'));
  await waitFor(async () => ((await api('GET', '/api/alarms', ADMIN)).body.alarms as unknown[]).length === 1, 10_000);

  const browser = await startBrowser(t);
  const a = await openPage(browser, `${fleet.base}/#token=${zhao}`, { viewport: DESKTOP });
  const link = await relay(t, fleet.httpPort);
  const b = await openPage(browser, `${link.base}/#token=${wang}`, { viewport: DESKTOP });
  for (const x of [a, b]) {
    await x.page.locator('#conn[data-state="live"]').first().waitFor();
    await x.page.goto(`${x === a ? fleet.base : link.base}/#/alarms`);
    await x.page.locator('article.alarm').first().waitFor();
  }
  const fromA = a.requests.length;
  const fromB = b.requests.length;

  // A new intrusion through the gateway: on both consoles, neither asked for its list.
  await send(unit, 'hrb-701', 'alarm', { ...intrusion(2, 'tamper-1'), kind: 'tamper', severity: 'critical' });
  for (const x of [a, b]) await x.page.locator('article.alarm.sev-critical .kind', { hasText: 'tamper' }).waitFor({ timeout: PUSHED_MS });
  assert.equal(fullAsks(a.requests, fromA, '/api/alarms'), 0, 'console A drew the alarm without asking for the list');
  assert.equal(fullAsks(b.requests, fromB, '/api/alarms'), 0, 'console B drew the alarm without asking for the list');
  assert.equal(await a.page.locator('#alarms-view .count').textContent(), '2 active · 0 acknowledged · 0 shelved · 0 inhibited');

  // Zhao acknowledges; Wang sees it on his console, still without a list ask.
  const rowA = a.page.locator('article.alarm.sev-critical');
  await rowA.locator('button[data-do="ack"]').click();
  const rowB = b.page.locator('article.alarm.sev-critical');
  await rowB.locator('.flags .acked', { hasText: 'acknowledged by commander · tok_' }).waitFor({ timeout: PUSHED_MS });
  await rowA.locator('.state', { hasText: 'acknowledged' }).waitFor({ timeout: PUSHED_MS });
  assert.equal(fullAsks(a.requests, fromA, '/api/alarms'), 0);
  assert.equal(fullAsks(b.requests, fromB, '/api/alarms'), 0);
  await b.shot('loop-feed-acknowledged-elsewhere');

  // A ticket moved by a dispatcher (through the API): the open queue and the open ticket page show it.
  const tickets = (await api('GET', '/api/tickets', ADMIN)).body.tickets as {
    id: string;
    unitId: string;
    alarmKind: string;
    state: string;
  }[];
  const tamper = tickets.find((x) => x.alarmKind === 'tamper');
  assert.ok(tamper, JSON.stringify(tickets));
  await a.page.goto(`${fleet.base}/#/tickets`);
  await b.page.goto(`${link.base}/#/ticket/${tamper.id}`);
  const queueRow = a.page.locator(`a.ticket-row[data-ticket="${tamper.id}"]`);
  await queueRow.waitFor();
  await b.page.locator('.ticket-head .badge.state').waitFor();
  const state0 = await queueRow.locator('.state').textContent();
  const qFrom = a.requests.length;
  const pFrom = b.requests.length;
  const move = tamper.state === 'reported' ? 'dispatch' : 'sign';
  const moved = await api('POST', `/api/tickets/${tamper.id}/${move}`, move === 'dispatch' ? dispatcher : ADMIN, {
    ...(move === 'dispatch' ? { department: 'public-security' } : {}),
  });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  const state1 = (moved.body as { state: string }).state;
  const stateWord = state1 === 'dispatched' ? 'dispatched' : 'signed for';
  await queueRow.locator('.state', { hasText: stateWord }).waitFor({ timeout: PUSHED_MS });
  assert.notEqual(await queueRow.locator('.state').textContent(), state0);
  await b.page.locator('.ticket-head .badge.state', { hasText: stateWord }).waitFor({ timeout: PUSHED_MS });
  await b.page.locator(`.timeline li[data-action="${move}"]`).waitFor({ timeout: PUSHED_MS });
  assert.equal(fullAsks(a.requests, qFrom, '/api/tickets'), 0, 'the queue drew the move without asking for the list');
  assert.equal(fullAsks(b.requests, pFrom, '/api/tickets'), 0, 'the ticket page asked for its ticket only');

  // The stream drops; a change committed meanwhile is not pushed to this page, and shows once it reconnects.
  await b.page.goto(`${link.base}/#/alarms`);
  await b.page.locator('article.alarm.sev-critical').waitFor();
  link.cut();
  await b.page.locator('#conn[data-state="reconnecting"]').first().waitFor({ timeout: 10_000 });
  const motion = ((await api('GET', '/api/alarms', ADMIN)).body.alarms as { episode: string; kind: string }[]).find(
    (x) => x.kind === 'motion',
  );
  assert.ok(motion);
  assert.equal((await api('POST', `/api/alarms/${encodeURIComponent(motion.episode)}/acknowledge`, zhao, {})).status, 200);
  const offlineFrom = b.requests.length;
  link.restore();
  await b.page.locator('#conn[data-state="live"]').first().waitFor({ timeout: 15_000 });
  await b.page.locator('#alarms-view .count', { hasText: '0 active · 2 acknowledged' }).waitFor({ timeout: PUSHED_MS });
  assert.equal(fullAsks(b.requests, offlineFrom, '/api/alarms'), 1, 'one full ask on reconnecting');
  await b.shot('loop-feed-reconciled');
  for (const x of [a, b]) assert.deepEqual(x.errors, []);
});
