/**
 * `shouwang open311 status` in a real Node-RED runtime (node-red-node-test-helper) against the
 * real fleet process and the recording city platform: a request that `shouwang deliver` opened is
 * polled until the city closes it, then its ticket is walked to closed with the status notes as
 * feedback, once; a request the city no longer knows is dropped with a warning.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { FLOWS_ROUTES, type StatusResult, type TicketEvent } from '@shouwang/protocol';
import helper from 'node-red-node-test-helper';
import deliver from '../src/deliver.ts';
import fleetNode from '../src/fleet-node.ts';
import { requestTracker, trackedRequests } from '../src/open311-requests.ts';
import open311Status from '../src/open311-status.ts';
import type { Node } from '../src/red.ts';
import { startCityPlatform } from './city-platform.ts';
import { ADMIN, openTicket, startBroker, startFleet, waitFor } from './support.ts';

helper.init(createRequire(import.meta.url).resolve('node-red'));

before(() => helper.startServer());
after(() => helper.stopServer());

test('a closed Open311 request closes its ticket with the status notes, once; an unknown one is dropped', async (t) => {
  const mqttUrl = await startBroker(t);
  const fleet = await startFleet(t, mqttUrl);
  const city = await startCityPlatform(t);
  const id = await openTicket(t, mqttUrl, fleet, 'hrb-831');
  await helper.load(
    [fleetNode, deliver, open311Status],
    [
      { id: 'f1', type: 'shouwang-fleet', url: fleet.base },
      { id: 'd', type: 'shouwang deliver', target: 'open311', url: city.urlOpen311, jurisdictionId: 'harbin', wires: [['delivered']] },
      { id: 'delivered', type: 'helper' },
      { id: 'poll', type: 'shouwang open311 status', fleet: 'f1', url: city.urlOpen311, intervalS: 3600, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ],
    { f1: { token: fleet.flowsToken } },
  );
  t.after(() => helper.unload());
  const moves: StatusResult[] = [];
  helper.getNode('out').on('input', (m: { payload: StatusResult }) => moves.push(m.payload));
  const warnings: string[] = [];
  helper.getNode('poll').on('call:warn', (c: { args: unknown[] }) => warnings.push(String(c.args[0])));
  let delivered = 0;
  helper.getNode('delivered').on('input', () => delivered++);
  /** One poll, answered by the status the node sets when it is over ("N open, M closed"). */
  const poll = () =>
    new Promise<string>((resolve) => {
      helper.getNode('poll').once('call:status', (c: { args: [{ text?: string }] }) => resolve(c.args[0].text ?? ''));
      helper.getNode('poll').receive({});
    });

  const events = (await fleet.api('POST', FLOWS_ROUTES.lease, fleet.flowsToken, { limit: 10 })).body.events as TicketEvent[];
  const created = events.find((e) => e.ticket.id === id);
  assert.ok(created);
  helper.getNode('d').receive({ seq: created.seq, payload: created });
  await waitFor('the Open311 request', () => delivered >= 1 || undefined);
  const requestId = String(city.accepted('open311')[0]?.body.service_request_id);

  assert.equal(await poll(), '1 open, 0 closed', 'still open: nothing applied');
  city.setOpen311Status(requestId, 'closed', 'Fence repaired, site secured');
  assert.equal(await poll(), '0 open, 1 closed');
  await waitFor('the four moves', () => moves.length >= 4 || undefined);
  assert.deepEqual(
    moves.map((m) => [m.state, m.applied]),
    [
      ['signed-for', true],
      ['handling', true],
      ['feedback', true],
      ['closed', true],
    ],
  );
  const timeline = (await fleet.api('GET', `/api/tickets/${id}`, ADMIN)).body.timeline as {
    action: string;
    actor: string;
    reason: string | null;
  }[];
  assert.deepEqual(
    timeline.filter((e) => e.actor.startsWith('open311:')).map((e) => [e.action, e.reason]),
    [
      ['sign', null],
      ['handle', null],
      ['feedback', 'Fence repaired, site secured'],
      ['close', null],
    ],
  );
  const asked = city.lookups();
  assert.equal(await poll(), '0 open, 1 closed');
  assert.equal(city.lookups(), asked, 'a closed ticket is not polled again');

  // A request the city dropped: polled once more, then let go with a warning.
  const node = helper.getNode('poll') as unknown as Node;
  await requestTracker(node)('999999', { ticketId: id, at: 1 });
  assert.equal(await poll(), '0 open, 1 closed');
  assert.match(warnings.join('\n'), /no longer knows request 999999/);
  assert.deepEqual(await trackedRequests(node), []);
});
