/**
 * The fleet's side of the flows contract, on SQLite and on a real PostgreSQL: ticket changes
 * leave through the transactional outbox (leased, settled, leased again when a lease runs out, in
 * order per ticket), refusals land in the dead-letter list and can be retried, and outside
 * statuses come back as moves of the loop — with bad or unauthenticated calls refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkValue, FLOWS_ROUTES, LEASE_WAIT_MAX_MS, LeasedEvents, retryPath, type TicketEvent } from '@shouwang/protocol';
import { leaseWaiting } from '../src/flows/lease-wait.ts';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { openDatabase } from '../src/storage/open.ts';
import { intrusion } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const ADMIN = 'admin-token-for-flows-tests-0123456789';

/** The wall clock plus an offset a test moves forward: lease expiry without waiting. */
function steppedClock() {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
}

async function setup(t: Parameters<typeof startBroker>[0], storageUrl: string) {
  const broker = await startBroker(t);
  const clock = steppedClock();
  const fleet = await startTestFleet(t, broker.url, { storageUrl, clock, auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
  const [flows, dispatcher, operator, commander] = await Promise.all(
    ['flows', 'dispatcher', 'department-operator', 'commander'].map(token),
  );
  const lease = async (body: Record<string, unknown> = {}) => {
    const r = await api('POST', FLOWS_ROUTES.lease, flows as string, body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const checked = checkValue(LeasedEvents, r.body);
    assert.ok(checked.ok, `the lease answers the protocol's shape: ${JSON.stringify(checked.ok ? null : checked.error)}`);
    return checked.value.events;
  };
  const settle = (settlements: unknown[]) => api('POST', FLOWS_ROUTES.settle, flows as string, { settlements });
  const openTicket = async (unitId: string, alarmId: string) => {
    const unit = await unitClient(t, broker.url, unitId);
    await send(unit, unitId, 'alarm', intrusion(1, alarmId));
    let id = '';
    await waitFor(async () => {
      const list = (await api('GET', `/api/tickets?open=true`, ADMIN)).body.tickets as { id: string; unitId: string }[];
      id = list.find((x) => x.unitId === unitId)?.id ?? '';
      return id !== '';
    });
    return id;
  };
  return {
    fleet,
    api,
    clock,
    lease,
    settle,
    openTicket,
    tokens: { flows: flows as string, dispatcher: dispatcher as string, operator: operator as string, commander: commander as string },
  };
}

function suite(name: string, storage: () => Promise<string>) {
  describe(`flows contract on ${name}`, () => {
    test('ticket changes are leased oldest first per ticket, again after a lost lease, and settled once', async (t) => {
      const s = await setup(t, await storage());
      const id = await s.openTicket('hrb-601', 'motion-1');
      // Two more changes on the same ticket before anything is delivered.
      assert.equal((await s.api('POST', `/api/tickets/${id}/sign`, s.tokens.operator, {})).status, 200);
      assert.equal((await s.api('POST', `/api/tickets/${id}/handle`, s.tokens.operator, {})).status, 200);

      const first = await s.lease();
      assert.deepEqual(
        first.map((e) => [e.type, e.action, e.ticket.state]),
        [['ticket.created', 'dispatch', 'dispatched']],
        "only the ticket's oldest change: the later ones wait for it",
      );
      const created = first[0] as TicketEvent;
      assert.equal(created.ticket.idempotencyKey.length > 0, true);
      assert.equal(created.ticket.grid.district, 'daoli');
      assert.equal(created.attempts, 0);
      assert.deepEqual(await s.lease(), [], 'leased: nobody else gets it meanwhile');

      // The consumer dies without settling: once the lease runs out the event comes again.
      s.clock.advance(61_000);
      const again = await s.lease();
      assert.deepEqual(
        again.map((e) => [e.seq, e.attempts]),
        [[created.seq, 1]],
      );

      assert.deepEqual((await s.settle([{ seq: created.seq, outcome: 'delivered' }])).body, { settled: 1 });
      assert.deepEqual((await s.settle([{ seq: created.seq, outcome: 'delivered' }])).body, { settled: 0 }, 'a repeat settles nothing');
      const next = await s.lease();
      assert.deepEqual(
        next.map((e) => [e.action, e.ticket.state]),
        [['sign', 'signed-for']],
      );
      await s.settle([{ seq: (next[0] as TicketEvent).seq, outcome: 'delivered' }]);
      const last = await s.lease();
      assert.deepEqual(
        last.map((e) => [e.action, e.ticket.state]),
        [['handle', 'handling']],
      );
      assert.ok((last[0] as TicketEvent).seq > (next[0] as TicketEvent).seq && (next[0] as TicketEvent).seq > created.seq);
    });

    test('a refusal for good lands in the dead-letter list with its reason, holds the ticket, and a dispatcher retries it', async (t) => {
      const s = await setup(t, await storage());
      const id = await s.openTicket('hrb-602', 'motion-2');
      assert.equal((await s.api('POST', `/api/tickets/${id}/sign`, s.tokens.operator, {})).status, 200);
      const [created] = await s.lease();
      assert.ok(created);
      await s.settle([{ seq: created.seq, outcome: 'dead-letter', reason: '422 unknown category', target: '12345' }]);
      const dead = (await s.api('GET', FLOWS_ROUTES.deadLetters, s.tokens.commander)).body.deadLetters as Record<string, unknown>[];
      assert.deepEqual(
        dead.map((d) => [d.seq, d.ticketId, d.reason, d.target]),
        [[created.seq, id, '422 unknown category', '12345']],
      );
      s.clock.advance(61_000);
      assert.deepEqual(await s.lease(), [], 'the ticket waits: its later change does not overtake the refused one');

      assert.equal((await s.api('POST', retryPath(created.seq), s.tokens.commander)).status, 403, 'a commander may not retry');
      assert.equal((await s.api('POST', retryPath(created.seq), s.tokens.dispatcher)).status, 200);
      assert.equal((await s.api('POST', retryPath(created.seq), s.tokens.dispatcher)).status, 404, 'no longer a dead letter');
      assert.deepEqual(
        (await s.lease()).map((e) => e.seq),
        [created.seq],
      );
      assert.deepEqual((await s.api('GET', FLOWS_ROUTES.deadLetters, s.tokens.commander)).body.deadLetters, []);
    });

    test('outside statuses sign for, handle and close the ticket with feedback; a repeat changes nothing; bad calls are refused', async (t) => {
      const s = await setup(t, await storage());
      const id = await s.openTicket('hrb-603', 'motion-3');
      const status = (body: unknown, token: string | null = s.tokens.flows) => s.api('POST', FLOWS_ROUTES.status, token, body);
      const state = async () => ((await s.api('GET', `/api/tickets/${id}`, ADMIN)).body.ticket as { state: string }).state;

      assert.equal((await status({ ticketId: id, action: 'sign', source: '12345' }, null)).status, 401);
      assert.equal((await status({ ticketId: id, action: 'sign', source: '12345' }, s.tokens.operator)).status, 403);
      const unknownField = await status({ ticketId: id, action: 'sign', source: '12345', extra: 1 });
      assert.equal(unknownField.status, 400);
      assert.match(JSON.stringify(unknownField.body), /extra|additional/);
      assert.equal((await status({ ticketId: id, action: 'sign-off', source: '12345' })).status, 400);
      assert.equal((await status({ ticketId: 'no-such-ticket', action: 'sign', source: '12345' })).status, 404);
      assert.equal((await status({ ticketId: id, action: 'handle', source: '12345' })).status, 409, 'not signed for yet');
      assert.equal(await state(), 'dispatched', 'nothing changed');

      assert.deepEqual((await status({ ticketId: id, action: 'sign', source: '12345', actor: 'Li Wei' })).body, {
        ticketId: id,
        applied: true,
        state: 'signed-for',
      });
      assert.deepEqual(
        (await status({ ticketId: id, action: 'sign', source: '12345' })).body,
        { ticketId: id, applied: false, state: 'signed-for' },
        'the outside answering twice',
      );
      assert.equal((await status({ ticketId: id, action: 'handle', source: '12345' })).status, 200);
      const noText = await status({ ticketId: id, action: 'feedback', source: '12345' });
      assert.equal(noText.status, 400);
      assert.equal((noText.body.error as { code: string }).code, 'REASON_REQUIRED');
      assert.equal(await state(), 'handling');
      assert.equal((await status({ ticketId: id, action: 'feedback', source: '12345', feedback: 'gate relocked' })).status, 200);
      const closed = await status({ ticketId: id, action: 'close', source: '12345', satisfaction: 'satisfied' });
      assert.equal((closed.body as { state: string }).state, 'closed');

      const timeline = (await s.api('GET', `/api/tickets/${id}`, ADMIN)).body.timeline as {
        action: string;
        actor: string;
        reason: string;
      }[];
      assert.deepEqual(
        timeline.filter((e) => e.actor.startsWith('12345:')).map((e) => [e.action, e.actor]),
        [
          ['sign', '12345:Li Wei'],
          ['handle', '12345:outside'],
          ['feedback', '12345:outside'],
          ['close', '12345:outside'],
        ],
      );
      assert.equal(timeline.find((e) => e.action === 'feedback')?.reason, 'gate relocked');
      // Each applied status is itself an event for the flows, after the ones before it.
      const outbox = await s.fleet.loop.outbox.forTicket(id);
      assert.deepEqual(
        outbox.map((e) => e.action),
        ['dispatch', 'sign', 'handle', 'feedback', 'close'],
      );
    });

    test('an unsatisfied close reopens the ticket as rework', async (t) => {
      const s = await setup(t, await storage());
      const id = await s.openTicket('hrb-604', 'motion-4');
      for (const action of ['sign', 'handle'])
        assert.equal((await s.api('POST', FLOWS_ROUTES.status, s.tokens.flows, { ticketId: id, action, source: 'open311' })).status, 200);
      await s.api('POST', FLOWS_ROUTES.status, s.tokens.flows, { ticketId: id, action: 'feedback', source: 'open311', feedback: 'done' });
      const r = await s.api('POST', FLOWS_ROUTES.status, s.tokens.flows, {
        ticketId: id,
        action: 'close',
        source: 'open311',
        satisfaction: 'unsatisfied',
        feedback: 'still open',
      });
      assert.deepEqual(r.body, { ticketId: id, applied: true, state: 'handling' });
      const ticket = (await s.api('GET', `/api/tickets/${id}`, ADMIN)).body.ticket as { rework: number };
      assert.equal(ticket.rework, 1);
    });

    test('a waiting lease answers when a ticket commits, and when a settlement frees its next change', async (t) => {
      const s = await setup(t, await storage());
      // The in-process wake alone: no recheck within the test's time, so only the commit can answer it.
      const waiting = (limit: number) =>
        leaseWaiting(s.fleet.loop.outbox, {
          now: s.clock.now,
          leaseMs: 60_000,
          limit,
          waitMs: 30_000,
          recheckMs: 60_000,
          safetyMs: 60_000,
          signal: AbortSignal.timeout(30_000),
        });
      const answered = async <T>(what: string, p: Promise<T>) =>
        Promise.race([p, sleep(10_000).then(() => assert.fail(`the waiting lease did not answer ${what} within 10 s`))]);
      const created = waiting(10);
      const id = await s.openTicket('hrb-620', 'motion-20');
      const first = (await answered('the new ticket', created)).events;
      assert.deepEqual(
        first.map((e) => [e.type, e.ticket.id]),
        [['ticket.created', id]],
      );
      assert.equal((await s.api('POST', `/api/tickets/${id}/sign`, s.tokens.operator, {})).status, 200);
      // The sign-for change waits behind the unsettled creation; settling it wakes the lease.
      const changed = waiting(10);
      assert.equal((await s.settle([{ seq: first[0]?.seq, outcome: 'delivered' }])).status, 200);
      const next = (await answered("the settled ticket's next change", changed)).events;
      assert.deepEqual(
        next.map((e) => [e.type, e.action]),
        [['ticket.changed', 'sign']],
      );
    });

    test('a lease asked to wait with nothing ready answers empty after its wait; without a wait at once', async (t) => {
      const s = await setup(t, await storage());
      const started = Date.now();
      assert.deepEqual(await s.lease({ waitMs: 400 }), []);
      const held = Date.now() - started;
      assert.ok(held >= 390, `held ${held} ms of its 400`);
      const again = Date.now();
      assert.deepEqual(await s.lease(), []);
      assert.ok(Date.now() - again < held, 'no wait asked: answered without holding');
      const tooLong = await s.api('POST', FLOWS_ROUTES.lease, s.tokens.flows, { waitMs: LEASE_WAIT_MAX_MS + 1 });
      assert.equal(tooLong.status, 400);
    });

    // SQLite is one instance: another writer's commits exist only on PostgreSQL.
    if (name.startsWith('PostgreSQL'))
      test('a waiting lease is answered when another fleet instance commits an event, through the listener, not the recheck', async (t) => {
        const url = await storage();
        const s = await setup(t, url);
        const id = await s.openTicket('hrb-640', 'motion-40');
        const [created] = await s.lease();
        assert.ok(created);
        await s.settle([{ seq: created.seq, outcome: 'delivered' }]);
        await waitFor(() => s.fleet.loop.outbox.othersHeard());
        // Another instance: its own database connections, its own outbox object.
        const other = await openDatabase(url, '', () => {});
        t.after(() => other.db.destroy());
        const elsewhere = new FlowsOutbox(other.db);
        // No recheck within the test's time: only the other instance's notification can answer it.
        const started = Date.now();
        const waiting = leaseWaiting(s.fleet.loop.outbox, {
          now: s.clock.now,
          leaseMs: 60_000,
          limit: 10,
          waitMs: 30_000,
          recheckMs: 60_000,
          safetyMs: 60_000,
          signal: AbortSignal.timeout(30_000),
        });
        await sleep(100);
        await other.db
          .transaction()
          .execute((tx) =>
            elsewhere.append(tx, [{ ticket: created.ticket, type: 'ticket.changed', action: 'sign', reason: null, at: s.clock.now() }]),
          );
        const got = await Promise.race([
          waiting,
          sleep(10_000).then(() => assert.fail("the waiting lease did not hear the other instance's event within 10 s")),
        ]);
        assert.deepEqual(
          got.events.map((e) => [e.ticket.id, e.type, e.action]),
          [[id, 'ticket.changed', 'sign']],
        );
        assert.ok(Date.now() - started < 5_000, `answered after ${Date.now() - started} ms`);
      });

    test('a consumer that hangs up while its lease waits is leased nothing: the next lease gets the event', async (t) => {
      const s = await setup(t, await storage());
      const gone = new AbortController();
      const held = fetch(`${s.fleet.base}${FLOWS_ROUTES.lease}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.tokens.flows}`, 'content-type': 'application/json' },
        body: JSON.stringify({ waitMs: 30_000 }),
        signal: gone.signal,
      }).catch((err: Error) => err);
      // Long enough for the fleet to be holding the call (were it not, nothing would be leased either).
      await sleep(300);
      gone.abort();
      assert.ok((await held) instanceof Error);
      const id = await s.openTicket('hrb-630', 'motion-30');
      const events = await s.lease();
      assert.deepEqual(
        events.map((e) => e.ticket.id),
        [id],
        'not leased to the caller that hung up',
      );
    });

    test('two consumers leasing at once never get the same event', async (t) => {
      const s = await setup(t, await storage());
      await Promise.all(Array.from({ length: 12 }, (_, i) => s.openTicket(`hrb-7${String(i).padStart(2, '0')}`, `m-${i}`)));
      const [a, b] = await Promise.all([s.lease({ limit: 12 }), s.lease({ limit: 12 })]);
      const seqs = [...(a ?? []), ...(b ?? [])].map((e) => e.seq);
      assert.equal(new Set(seqs).size, seqs.length, 'disjoint');
      s.clock.advance(61_000);
      const all = await s.lease({ limit: 100 });
      assert.equal(all.length, 12, 'one created event per ticket, all leased again after the leases ran out');
    });
  });
}

suite('SQLite', async () => '');
suite('PostgreSQL 15', postgresDatabases('flows'));
