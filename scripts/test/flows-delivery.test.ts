/**
 * Tickets delivered once to the outside, end to end: real units on the simulator raise tamper
 * alarms through the real gateway, the real fleet opens tickets into its outbox, Node-RED runs the
 * shipped default flows, and a recording city platform checks each 12345 work order against the
 * protocol and each Open311 request against the shipped GeoReport v2 definition.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../../flows/test/support.ts';
import { stopChild } from '../system.ts';
import { LEASE_S, orderedOnce, startFlowsSystem } from './flows-e2e.ts';

test('alarms reach both endpoints once through failures, a time-out, a kill mid-delivery and a stop while tickets open; in order per ticket', {
  timeout: 240_000,
}, async (t) => {
  const f = await startFlowsSystem(t, 3);
  const { city } = f;

  // 1. The endpoint fails its first answers and times out once: delivered once.
  city.fault('12345', 2, { kind: 'status', status: 503 });
  city.fault('12345', 1, { kind: 'hang' });
  city.fault('open311', 1, { kind: 'status', status: 502 });
  const first = await f.tamper(0);
  // Each endpoint its own lane: Open311 takes it while 12345 is still failing.
  await waitFor(
    'the first ticket at both endpoints',
    () => (city.accepted('open311').length >= 1 && city.accepted('12345').length >= 1) || undefined,
    30_000,
  );
  assert.deepEqual(
    city.accepted('12345').map((r) => [r.body.code, r.body.event]),
    [[first, 'created']],
  );
  // Three scripted failures, one order; anything more (a lease that lapsed on a loaded machine) was a repeat it recognised.
  assert.equal(city.requests('12345'), 3 + 1 + city.duplicates('12345'));
  assert.equal(city.accepted('open311')[0]?.body['attribute[idempotency_key]'], city.accepted('12345')[0]?.key);

  // 2. Killed mid-delivery: 12345 took the order but its answer never came back to the dead Node-RED.
  const repeatsBefore = city.duplicates('12345');
  city.fault('12345', 1, { kind: 'accept-hang' });
  const taken = new Promise<void>((r) => {
    city.onAccepted = (o) => o.target === '12345' && r();
  });
  const second = await f.tamper(1);
  await taken;
  f.flows().child.kill('SIGKILL');
  await f.flows().start();
  // Open311 may have taken it before the kill (its own lane); the 12345 repeat comes after the restart.
  await waitFor(
    'the second ticket at Open311 and its 12345 repeat after the restart',
    () => (city.accepted('open311').length >= 2 && city.duplicates('12345') > repeatsBefore) || undefined,
    30_000,
  );

  // 3. Stopped for a while as tickets open and change: nothing is lost, each goes once, in order.
  await stopChild(f.flows().child);
  const third = await f.tamper(2);
  for (const id of [first, second]) assert.equal((await f.api('POST', `/api/tickets/${id}/sign`, 'department-operator', {})).status, 200);
  assert.equal((await f.api('POST', `/api/tickets/${first}/handle`, 'department-operator', {})).status, 200);
  const before = city.accepted('12345').length;
  await new Promise((r) => setTimeout(r, LEASE_S * 1000)); // an outage longer than a lease: nothing may go meanwhile
  assert.equal(city.accepted('12345').length, before, 'nothing delivered while Node-RED is down');
  await f.flows().start();
  await waitFor(
    'the third ticket and the four changes',
    () => (city.accepted('12345').length >= before + 4 && city.accepted('open311').length >= 3) || undefined,
    30_000,
  );
  const of = (id: string) =>
    city
      .accepted('12345')
      .filter((r) => r.body.code === id)
      .map((r) => `${r.body.event}:${r.body.state}`);
  assert.deepEqual(of(first), ['created:dispatched', 'changed:signed-for', 'changed:handling']);
  assert.deepEqual(of(second), ['created:dispatched', 'changed:signed-for']);
  assert.deepEqual(of(third).length, 1);
  assert.match(String(of(third)[0]), /^created:/);
  assert.deepEqual(orderedOnce(city), []);
  assert.deepEqual((await f.api('GET', '/api/flows/dead-letters')).body.deadLetters, []);

  // 4. The city closes the first request in Open311: the poll walks its ticket to closed with the notes.
  const request = city.accepted('open311').find((r) => r.body['attribute[idempotency_key]'] === city.accepted('12345')[0]?.key);
  city.setOpen311Status(String(request?.body.service_request_id), 'closed', '已处置：围挡已恢复');
  await waitFor('the first ticket closed from Open311', async () => (await f.ticket(first)).state === 'closed' || undefined, 30_000);
  const timeline = (await f.api('GET', `/api/tickets/${first}`)).body.timeline as {
    action: string;
    actor: string;
    reason: string | null;
  }[];
  assert.deepEqual(
    timeline.filter((e) => e.actor.startsWith('open311:')).map((e) => [e.action, e.reason]),
    [
      ['feedback', '已处置：围挡已恢复'],
      ['close', null],
    ],
  );
});
