/**
 * Each Shouwang node in a real Node-RED runtime (node-red-node-test-helper) against the real
 * fleet process: events leased and settled, statuses applied, bad input ending in done(err) —
 * what a Catch node sees — with the fleet unchanged.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import type { TicketEvent } from '@shouwang/protocol';
import helper from 'node-red-node-test-helper';
import fleetNode from '../src/fleet-node.ts';
import ticketIn from '../src/ticket-in.ts';
import ticketUpdate from '../src/ticket-update.ts';
import { ADMIN, openTicket, startBroker, startFleet, waitFor } from './support.ts';

helper.init(createRequire(import.meta.url).resolve('node-red'));

before(() => helper.startServer());
after(() => helper.stopServer());

interface Received {
  payload: unknown;
  seq?: number;
}

/** Loads `flow` with the fleet config node `f1` and collects what the helper node `out` receives. */
async function load(t: Parameters<typeof startBroker>[0], nodes: unknown[], flow: object[], base: string, token: string) {
  await helper.load([fleetNode, ...nodes], [{ id: 'f1', type: 'shouwang-fleet', url: base }, ...flow, { id: 'out', type: 'helper' }], {
    f1: { token },
  });
  t.after(() => helper.unload());
  const got: Received[] = [];
  helper.getNode('out').on('input', (msg: Received) => got.push(msg));
  return got;
}

/** The errors a node reported (done(err) or node.error), as Catch nodes would receive them. */
function errorsOf(id: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on('call:error', (call: { args: unknown[] }) => seen.push(String(call.args[0])));
  return seen;
}

test('ticket in sends each new ticket once with its idempotency key, and settling it lets the next change through', async (t) => {
  const mqttUrl = await startBroker(t);
  const fleet = await startFleet(t, mqttUrl);
  const id = await openTicket(t, mqttUrl, fleet, 'hrb-801');
  const operator = await fleet.token('department-operator');
  assert.equal((await fleet.api('POST', `/api/tickets/${id}/sign`, operator, {})).status, 200);
  const got = await load(
    t,
    [ticketIn],
    [{ id: 'in', type: 'shouwang ticket in', fleet: 'f1', intervalS: 0.1, leaseS: 60, waitS: 0.2, wires: [['out']] }],
    fleet.base,
    fleet.flowsToken,
  );
  await waitFor('the created event', () => got.length >= 1 || undefined);
  const first = got[0]?.payload as TicketEvent;
  assert.equal(first.type, 'ticket.created');
  assert.equal(first.ticket.id, id);
  assert.match(first.ticket.idempotencyKey, /hrb-801/);
  // Leased again and again meanwhile (each lease waits 0.2 s): the change waits behind the unsettled creation, nothing is sent twice.
  let polls = 0;
  helper.getNode('in').on('call:status', () => polls++);
  await waitFor('five more polls', () => polls >= 5 || undefined);
  assert.equal(got.length, 1);

  helper.getNode('in').receive({ seq: first.seq, settlement: { outcome: 'delivered' } });
  await waitFor('the sign-for change', () => got.length >= 2 || undefined);
  const second = got[1]?.payload as TicketEvent;
  assert.deepEqual([second.type, second.action, second.ticket.state], ['ticket.changed', 'sign', 'signed-for']);
});

test('ticket in: a settlement without an outcome is an error for Catch; a wrong token shows on the status', async (t) => {
  const mqttUrl = await startBroker(t);
  const fleet = await startFleet(t, mqttUrl);
  await load(
    t,
    [ticketIn],
    [{ id: 'in', type: 'shouwang ticket in', fleet: 'f1', intervalS: 0.1, wires: [['out']] }],
    fleet.base,
    'swt_wrong',
  );
  const errors = errorsOf('in');
  const statuses: string[] = [];
  helper.getNode('in').on('call:status', (call: { args: [{ text?: string }] }) => statuses.push(call.args[0].text ?? ''));
  await waitFor('the refused lease on the status', () => statuses.find((s) => s.includes('401')));
  helper.getNode('in').receive({ seq: 1, settlement: {} });
  await waitFor('the settlement error', () => errors.find((e) => e.includes('cannot settle') && e.includes('outcome')));
});

test('ticket update signs for, handles and closes with feedback; a repeat is recognised; bad input changes nothing', async (t) => {
  const mqttUrl = await startBroker(t);
  const fleet = await startFleet(t, mqttUrl);
  const id = await openTicket(t, mqttUrl, fleet, 'hrb-802');
  const got = await load(
    t,
    [ticketUpdate],
    [{ id: 'up', type: 'shouwang ticket update', fleet: 'f1', wires: [['out']] }],
    fleet.base,
    fleet.flowsToken,
  );
  const errors = errorsOf('up');
  const state = async () => ((await fleet.api('GET', `/api/tickets/${id}`, ADMIN)).body.ticket as { state: string }).state;
  const send = (payload: unknown) => helper.getNode('up').receive({ payload });

  send({ ticketId: id, action: 'sign-off', source: '12345' });
  await waitFor('the schema error, before any call', () => errors.find((e) => e.includes('not a status change') && e.includes('/action')));
  send({ ticketId: id, action: 'handle', source: '12345' });
  await waitFor('the refused move', () => errors.find((e) => e.includes('409') && e.includes('CONFLICT')));
  assert.equal(await state(), 'dispatched', 'nothing changed');

  for (const payload of [
    { ticketId: id, action: 'sign', source: '12345' },
    { ticketId: id, action: 'sign', source: '12345' },
    { ticketId: id, action: 'handle', source: '12345' },
    { ticketId: id, action: 'feedback', source: '12345', feedback: 'site secured' },
    { ticketId: id, action: 'close', source: '12345', satisfaction: 'satisfied' },
  ]) {
    const n = got.length;
    send(payload);
    await waitFor(`the answer to ${payload.action}`, () => got.length > n || undefined);
  }
  assert.deepEqual(
    got.map((m) => [(m.payload as { state: string }).state, (m.payload as { applied: boolean }).applied]),
    [
      ['signed-for', true],
      ['signed-for', false],
      ['handling', true],
      ['feedback', true],
      ['closed', true],
    ],
  );
  assert.equal(await state(), 'closed');
});
