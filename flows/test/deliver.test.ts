/**
 * `shouwang deliver` in a real Node-RED runtime (node-red-node-test-helper), chained 12345 →
 * Open311 as the shipped flow wires it, against the recording city platform: one outside order
 * per episode whatever the endpoint does (fails, times out, answers a repeat), a refusal for good
 * a dead letter with its reason, a failure past the tries left for the next lease.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, type TestContext, test } from 'node:test';
import type { Settlement, TicketEvent } from '@shouwang/protocol';
import helper from 'node-red-node-test-helper';
import deliver from '../src/deliver.ts';
import { trackedRequests } from '../src/open311-requests.ts';
import type { Node } from '../src/red.ts';
import { startCityPlatform } from './city-platform.ts';
import { waitFor } from './support.ts';

helper.init(createRequire(import.meta.url).resolve('node-red'));

before(() => helper.startServer());
after(() => helper.stopServer());

export function ticketEvent(n: number, over: Partial<TicketEvent> = {}): TicketEvent {
  return {
    seq: n,
    type: 'ticket.created',
    at: 1_764_000_000_000,
    action: 'dispatch',
    reason: null,
    attempts: 0,
    ticket: {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      idempotencyKey: `hrb-820:motion:${n}`,
      state: 'dispatched',
      unitId: 'hrb-820',
      alarmKind: 'motion',
      category: 'public-security',
      severity: 'major',
      priority: 'high',
      grid: { cell: 'DL-0101', community: '新华社区', street: '新华街道', district: '道里区', team: 'team-a' },
      department: 'public-security',
      dispatcher: 'daoli-command',
      position: { lat: 45.7612, lon: 126.6153 },
      openedAt: 1_764_000_000_000,
      deadlineAt: 1_764_014_400_000,
      light: 'green',
      escalated: false,
      alarmCount: 1,
      evidence: { snapshots: ['snap-1'], clips: [] },
      updatedAt: 1_764_000_000_000,
    },
    ...over,
  };
}

interface Out {
  seq: number;
  settlement?: Settlement;
  deferred?: boolean;
  lane?: string;
  payload: TicketEvent;
}

async function chain(t: TestContext, over: Record<string, unknown> = {}) {
  const city = await startCityPlatform(t);
  const common = { timeoutS: 0.3, tries: 4, backoffMs: 10, mediaBase: 'http://127.0.0.1:8080/api/media', ...over };
  await helper.load(
    [deliver],
    [
      { id: 'd1', type: 'shouwang deliver', target: '12345', url: city.url12345, ...common, wires: [['d2']] },
      {
        id: 'd2',
        type: 'shouwang deliver',
        target: 'open311',
        url: city.urlOpen311,
        jurisdictionId: 'harbin',
        serviceCodes: '{"*":"shouwang-alarm"}',
        ...common,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ],
  );
  t.after(() => helper.unload());
  const got: Out[] = [];
  helper.getNode('out').on('input', (m: Out) => got.push(m));
  const errors: string[] = [];
  for (const id of ['d1', 'd2']) helper.getNode(id).on('call:error', (c: { args: unknown[] }) => errors.push(String(c.args[0])));
  const send = (e: TicketEvent) => helper.getNode('d1').receive({ seq: e.seq, payload: e });
  return { city, got, errors, send };
}

test('a new ticket reaches both endpoints once, in their shapes; the same event again is recognised as a repeat', async (t) => {
  const { city, got, send } = await chain(t);
  send(ticketEvent(1));
  await waitFor('the settlement', () => got.length >= 1 || undefined);
  assert.deepEqual(got[0]?.settlement, { outcome: 'delivered' });
  assert.deepEqual(city.invalid, []);
  const [wo] = city.accepted('12345');
  assert.deepEqual(
    [wo?.key, wo?.body.code, wo?.body.event, wo?.body.gridCell, wo?.body.deadline, wo?.body.attachments],
    [
      'hrb-820:motion:1',
      '00000000-0000-4000-8000-000000000001',
      'created',
      'DL-0101',
      '2025-11-24T20:00:00.000Z',
      ['http://127.0.0.1:8080/api/media/snapshots/snap-1'],
    ],
  );
  const [req] = city.accepted('open311');
  assert.deepEqual(
    [req?.body.service_code, req?.body.lat, req?.body.long, req?.body['attribute[idempotency_key]'], req?.body.jurisdiction_id],
    ['shouwang-alarm', 45.7612, 126.6153, 'hrb-820:motion:1', 'harbin'],
  );
  assert.match(String(req?.body.address_string), /^DL-0101, 新华社区, 新华街道, 道里区$/);

  // The lease lapsed before the settlement got back (say): the event comes again.
  send(ticketEvent(1, { attempts: 1 }));
  await waitFor('the second settlement', () => got.length >= 2 || undefined);
  assert.deepEqual(got[1]?.settlement, { outcome: 'delivered' });
  assert.equal(city.accepted('12345').length, 1);
  assert.equal(city.accepted('open311').length, 1);
  assert.deepEqual([city.duplicates('12345'), city.duplicates('open311')], [1, 1]);
});

test('a burst of events goes over the few connections kept open to each endpoint, each delivered once', async (t) => {
  const { city, got, send } = await chain(t, { connections: 3 });
  for (let n = 1; n <= 30; n++) send(ticketEvent(100 + n));
  await waitFor('30 settlements', () => got.length >= 30 || undefined);
  assert.ok(
    got.every((m) => m.settlement?.outcome === 'delivered'),
    'all delivered',
  );
  assert.deepEqual([city.accepted('12345').length, city.accepted('open311').length], [30, 30]);
  assert.ok(city.connections() <= 6, `${city.connections()} connections for 60 requests: at most 3 per endpoint`);
  // Their Open311 requests were kept together (one write), every one of them, for the status poll.
  const tracked = await trackedRequests(helper.getNode('d2') as unknown as Node);
  assert.deepEqual(
    tracked.map(([, r]) => r.ticketId).sort(),
    city
      .accepted('12345')
      .map((r) => String(r.body.code))
      .sort(),
  );
});

test('answers that fail and one that times out: tried again with backoff, delivered once', async (t) => {
  const { city, got, send } = await chain(t);
  city.fault('12345', 2, { kind: 'status', status: 503 });
  city.fault('12345', 1, { kind: 'hang' });
  city.fault('open311', 1, { kind: 'status', status: 429 });
  send(ticketEvent(2));
  await waitFor('the settlement', () => got.length >= 1 || undefined);
  assert.deepEqual(got[0]?.settlement, { outcome: 'delivered' });
  // The scripted faults, then one order; a try slower than the time-out on a loaded machine is a recognised repeat.
  assert.deepEqual([city.requests('12345') - city.duplicates('12345'), city.accepted('12345').length], [4, 1]);
  assert.deepEqual([city.requests('open311') - city.duplicates('open311'), city.accepted('open311').length], [2, 1]);
});

test('a refusal for good is a dead letter with the answer and the target; the next target is not called', async (t) => {
  const { city, got, send } = await chain(t);
  city.refuse('12345', (key) => key === 'hrb-820:motion:3', 422);
  send(ticketEvent(3));
  await waitFor('the settlement', () => got.length >= 1 || undefined);
  const s = got[0]?.settlement;
  assert.equal(s?.outcome, 'dead-letter');
  assert.equal(s?.target, '12345');
  assert.match(String(s?.reason), /^12345 refused: 422 .*not a matter this platform takes/);
  assert.equal(city.requests('open311'), 0);
});

test('still failing after its tries: no settlement and an error for Catch, until the last lease makes it a dead letter', async (t) => {
  const { city, got, errors, send } = await chain(t, { tries: 2, maxLeases: 3 });
  city.fault('12345', 4, { kind: 'status', status: 500 });
  send(ticketEvent(4));
  await waitFor('the deferral', () => errors.find((e) => e.includes('left for the next lease (1 of 3)')));
  // Not settled: reported deferred on its lane (past Open311 untouched), so the lease lapses and the event comes again.
  await waitFor('the deferral report', () => got.length >= 1 || undefined);
  assert.deepEqual([got[0]?.deferred, got[0]?.lane, got[0]?.settlement], [true, 'd1', undefined]);
  assert.equal(city.requests('open311'), 0);
  send(ticketEvent(4, { attempts: 2 }));
  await waitFor('the settlement', () => got.length >= 2 || undefined);
  assert.equal(got[1]?.settlement?.outcome, 'dead-letter');
  assert.match(String(got[1]?.settlement?.reason), /^12345 failed 3 leases of 2 tries; last: 500/);
  assert.equal(city.accepted('12345').length, 0);
});

test('a change goes to 12345 once per revision; Open311 (no update operation) is not called', async (t) => {
  const { city, got, send } = await chain(t);
  const change = ticketEvent(5, { type: 'ticket.changed', action: 'sign' });
  change.ticket.state = 'signed-for';
  send(change);
  send({ ...change, attempts: 1 });
  await waitFor('both settlements', () => got.length >= 2 || undefined);
  assert.deepEqual(
    got.map((m) => m.settlement?.outcome),
    ['delivered', 'delivered'],
  );
  assert.deepEqual(
    city.accepted('12345').map((r) => [r.key, r.body.event, r.body.state]),
    [['hrb-820:motion:5#5', 'changed', 'signed-for']],
  );
  assert.equal(city.requests('open311'), 0);
});
