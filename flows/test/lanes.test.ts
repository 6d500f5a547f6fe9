/**
 * Each destination its own lane: `ticket in` wired to the 12345 and Open311 deliver nodes side by
 * side, as the shipped flow does, against the real fleet and the recording city platform. A stalled
 * Open311 endpoint fills its own lane and holds none of the city's 12345 work orders; once it
 * answers again the events are delivered there and settled, without a second 12345 call.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { FLOWS_ROUTES } from '@shouwang/protocol';
import helper from 'node-red-node-test-helper';
import deliver from '../src/deliver.ts';
import fleetNode from '../src/fleet-node.ts';
import ticketIn from '../src/ticket-in.ts';
import { startCityPlatform } from './city-platform.ts';
import { ADMIN, openTicket, startBroker, startFleet, waitFor } from './support.ts';

helper.init(createRequire(import.meta.url).resolve('node-red'));

before(() => helper.startServer());
after(() => helper.stopServer());

test('with the Open311 endpoint stalled, every 12345 work order still goes at once; Open311 gets them when it answers again', async (t) => {
  const mqttUrl = await startBroker(t);
  const fleet = await startFleet(t, mqttUrl);
  const city = await startCityPlatform(t);
  const tickets = await Promise.all(Array.from({ length: 8 }, (_, i) => openTicket(t, mqttUrl, fleet, `hrb-${860 + i}`)));
  // Its first four requests hang: with two events a lease, that is the whole of the Open311 lane.
  city.fault('open311', 4, { kind: 'hang' });
  const common = { tries: 1, backoffMs: 10, wires: [['in']] };
  await helper.load(
    [fleetNode, ticketIn, deliver],
    [
      { id: 'f1', type: 'shouwang-fleet', url: fleet.base },
      {
        id: 'in',
        type: 'shouwang ticket in',
        fleet: 'f1',
        intervalS: 0.1,
        leaseS: 4,
        waitS: 0.2,
        limit: 2,
        wires: [['d12345', 'd311', 'tap']],
      },
      { id: 'd12345', type: 'shouwang deliver', target: '12345', url: city.url12345, timeoutS: 2, ...common },
      { id: 'd311', type: 'shouwang deliver', target: 'open311', url: city.urlOpen311, jurisdictionId: 'harbin', timeoutS: 2, ...common },
      // A node beside the lanes that never reports (a debug tap): no lane to wait for.
      { id: 'tap', type: 'helper' },
    ],
    { f1: { token: fleet.flowsToken } },
  );
  t.after(() => helper.unload());
  const open311Errors: string[] = [];
  helper.getNode('d311').on('call:error', (c: { args: unknown[] }) => open311Errors.push(String(c.args[0])));
  const statuses: string[] = [];
  helper.getNode('in').on('call:status', (c: { args: { text?: string }[] }) => statuses.push(String(c.args[0]?.text)));

  await waitFor('a 12345 work order for every ticket', () => city.accepted('12345').length >= 8 || undefined);
  // Before the stalled requests' time-out let go of a single event: 12345 never waited for Open311.
  assert.deepEqual(open311Errors, [], 'no Open311 request had timed out yet');
  assert.equal(city.accepted('open311').length, 0);
  assert.deepEqual(
    city
      .accepted('12345')
      .map((r) => String(r.body.code))
      .sort(),
    [...tickets].sort(),
  );

  // The leases lapse, the events come again, Open311 answers now: delivered there, settled, 12345 not called twice.
  await waitFor('an Open311 request for every ticket', () => city.accepted('open311').length >= 8 || undefined, 20_000);
  await waitFor('all eight settled', () => statuses.some((s) => s.endsWith('settled 8')) || undefined);
  assert.equal(city.requests('12345'), 8);
  assert.deepEqual(city.invalid, []);
  assert.deepEqual((await fleet.api('GET', FLOWS_ROUTES.deadLetters, ADMIN)).body.deadLetters, []);
});
