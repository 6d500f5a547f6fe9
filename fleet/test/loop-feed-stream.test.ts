/**
 * The alarm loop's pushes on the dashboard's stream, read as a client reads them (HTTP, text/event-stream):
 * a storm of 1,000 alarms arrives as every episode once, in a few coalesced `alarms` events (one
 * read per 250 ms, not one per commit), each followed by the flood state; a ticket's move and its
 * deadline timer's warning are pushed as the ticket; and a token that may not read the API may not
 * open the stream; with two instances on one PostgreSQL, what one commits is pushed by the other.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { payloads } from '../src/services/shared-loop-changes.ts';
import { intrusion } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'loop-feed-stream-admin-token-0123456789';
const STORM = 1000;
const unitId = (i: number) => `hrb-${String(i).padStart(4, '0')}`;

interface Event {
  type: string;
  data: unknown;
  at: number;
}

/** Opens the stream with `token` and collects its events until the test ends. */
async function listen(t: TestContext, base: string, token: string): Promise<{ status: number; events: Event[] }> {
  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`${base}/api/dashboard/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  const events: Event[] = [];
  if (res.status !== 200 || !res.body) return { status: res.status, events };
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += value;
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data), at: Date.now() });
        end = buf.indexOf('\n\n');
      }
    }
  })();
  return { status: res.status, events };
}

test('a storm of 1,000 alarms is pushed as each episode once, in coalesced events; a move and a deadline warning as the ticket; no read, no stream', {
  timeout: 120_000,
}, async (t) => {
  const broker = await startBroker(t);
  let now = Date.now();
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, clock: { now: () => now } });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const operator = await token('department-operator', 'Operator Chen');
  const flows = await token('flows', 'Node-RED');

  // The flows' role takes ticket events out and cannot read the API: nor the stream.
  const refused = await listen(t, fleet.base, flows);
  assert.equal(refused.status, 403);
  assert.equal((await api('GET', '/api/alarms', flows)).status, 403);

  const { events } = await listen(t, fleet.base, operator);
  await waitFor(() => events.some((e) => e.type === 'clock'));
  const units = await unitClient(t, broker.url, 'storm-units');
  const t0 = Date.now();
  await Promise.all(Array.from({ length: STORM }, (_, i) => send(units, unitId(i), 'alarm', intrusion(1, `motion-${i}`))));
  const pushed = () => events.filter((e) => e.type === 'alarms');
  const episodes = () => new Set(pushed().flatMap((e) => (e.data as { alarms: { episode: string }[] }).alarms.map((a) => a.episode)));
  await waitFor(() => episodes().size === STORM, 60_000);
  const last = Math.max(...pushed().map((e) => e.at));
  // One read per 250 ms at most (and one more for what committed while a read was on its way).
  const bound = Math.ceil((last - t0) / 250) + 2;
  t.diagnostic(`${STORM} alarms in ${pushed().length} pushes over ${last - t0} ms (bound ${bound})`);
  assert.ok(pushed().length <= bound, `${pushed().length} pushes for ${STORM} alarms over ${last - t0} ms`);
  assert.ok(pushed().length < STORM / 10, `${pushed().length} pushes for ${STORM} alarms`);
  // Each push of episodes is followed by the flood state it leaves; the last one counts them all.
  await waitFor(() => events.filter((e) => e.type === 'flood').length === pushed().length);
  const flood = events.findLast((e) => e.type === 'flood')?.data as
    | { districts: { district: string; alarms: number; inFlood: boolean }[] }
    | undefined;
  const daoli = flood?.districts.find((d) => d.district === 'daoli');
  assert.equal(daoli?.inFlood, true);
  assert.equal(daoli?.alarms, STORM);

  // A ticket's move: pushed as the ticket in its new state, shaped as GET /api/tickets answers it.
  const [ticket] = (await api('GET', '/api/tickets?limit=1', ADMIN)).body.tickets as { id: string; state: string }[];
  assert.ok(ticket);
  const from = events.length;
  assert.equal((await api('POST', `/api/tickets/${ticket.id}/sign`, operator, {})).status, 200);
  await waitFor(() =>
    events
      .slice(from)
      .some(
        (e) =>
          e.type === 'tickets' &&
          (e.data as { tickets: { id: string; state: string }[] }).tickets.some((x) => x.id === ticket.id && x.state === 'signed-for'),
      ),
  );
  const listed = (await api('GET', '/api/tickets?limit=5000', ADMIN)).body.tickets as { id: string }[];
  const push = events.slice(from).find((e) => e.type === 'tickets')?.data as { tickets: unknown[] };
  assert.deepEqual(
    push.tickets[0],
    listed.find((x) => x.id === ticket.id),
    'the pushed row is the listed row',
  );

  // Past its warning time by the fleet's clock: the timer paints it yellow, and the ticket is pushed so.
  const { yellowAt } = (await api('GET', `/api/tickets/${ticket.id}`, ADMIN)).body.ticket as { yellowAt: number };
  now = yellowAt + 1000;
  const warned = events.length;
  assert.ok((await fleet.loop.tickets.runDue()) > 0);
  const yellow = (e: Event) =>
    e.type === 'tickets' &&
    (e.data as { tickets: { id: string; light: string }[] }).tickets.some((x) => x.id === ticket.id && x.light === 'yellow');
  await waitFor(() => events.slice(warned).some(yellow));
});

test("two instances on one PostgreSQL: a commander's stream on one is pushed what the other committed, within a push, not a reconcile", {
  timeout: 90_000,
}, async (t) => {
  const teardown: (() => Promise<unknown>)[] = [];
  let a: Awaited<ReturnType<typeof startTestFleet>> | undefined;
  let b: typeof a;
  t.after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const fn of teardown) await fn();
  });
  const { url: storageUrl } = await startPostgres((fn) => teardown.unshift(fn));
  const broker = await startBroker(t);
  const auth = { bootstrapAdminToken: ADMIN };
  a = await startTestFleet(t, broker.url, { storageUrl, instanceId: 'a', auth });
  b = await startTestFleet(t, broker.url, { storageUrl, instanceId: 'b', auth });
  const [onA, onB] = [apiClient(a.base), apiClient(b.base)];
  const operator = (await onA('POST', '/api/tokens', ADMIN, { role: 'department-operator', name: 'Operator Chen' })).body.token as string;
  const { events } = await listen(t, a.base, operator);
  await waitFor(() => events.some((e) => e.type === 'clock'));

  const units = await unitClient(t, broker.url, 'two-instance-units');
  await send(units, unitId(1), 'alarm', intrusion(1, 'motion-1'));
  let ticket: { id: string } | undefined;
  await waitFor(async () => {
    [ticket] = (await onA('GET', '/api/tickets?limit=1', ADMIN)).body.tickets as { id: string }[];
    return ticket !== undefined;
  });
  const id = (ticket as { id: string }).id;
  const isPushed = (e: Event, state: string) =>
    e.type === 'tickets' && (e.data as { tickets: { id: string; state: string }[] }).tickets.some((x) => x.id === id && x.state === state);
  // Whichever instance took the alarm, its opening has been pushed here before the move is made.
  await waitFor(() => events.some((e) => isPushed(e, 'dispatched')), 10_000);
  // Signed for on the other instance: the stream on this one carries it long before its 30 s reconcile.
  const from = events.length;
  const signedAt = Date.now();
  assert.equal((await onB('POST', `/api/tickets/${id}/sign`, operator, {})).status, 200);
  const signed = (e: Event) => isPushed(e, 'signed-for');
  await waitFor(() => events.slice(from).some(signed), 10_000);
  t.diagnostic(`pushed on a ${(events.slice(from).find(signed)?.at ?? 0) - signedAt} ms after b committed`);
});

test('a storm batch is told in payloads PostgreSQL accepts, every id once', () => {
  const episodes = Array.from({ length: 500 }, (_, i) => `${unitId(i)}~motion~motion-${i}`);
  const tickets = Array.from({ length: 500 }, () => crypto.randomUUID());
  const told = payloads('me', episodes, tickets).map((p) => JSON.parse(p) as { from: string; e: string[]; t: string[] });
  assert.ok(told.length > 1);
  for (const p of payloads('me', episodes, tickets)) assert.ok(Buffer.byteLength(p) < 8000, `${Buffer.byteLength(p)} bytes`);
  assert.deepEqual(
    told.flatMap((p) => p.e),
    episodes,
  );
  assert.deepEqual(
    told.flatMap((p) => p.t),
    tickets,
  );
  assert.deepEqual(payloads('me', [], []), [], 'nothing changed, nothing told');
});
