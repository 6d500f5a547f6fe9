/**
 * What comes back from the outside, end to end through Node-RED's shipped flows: a refusal for
 * good is a dead letter with its reason that a dispatcher retries through the fleet's API; the
 * 12345 platform's status callbacks sign for, handle and close the ticket with feedback and
 * satisfaction; a call without the inbound token, or with a body the protocol refuses, gets a
 * clear error and changes nothing.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { filters, topics } from '@shouwang/protocol';
import mqtt from 'mqtt';
import { waitFor } from '../../flows/test/support.ts';
import { ADMIN_PASSWORD, orderedOnce, startFlowsSystem } from './flows-e2e.ts';

interface DeadLetter {
  seq: number;
  ticketId: string;
  reason: string;
  target: string;
}

test('a refused ticket is a dead letter until a dispatcher retries it; 12345 statuses sign for, handle and close it', {
  timeout: 180_000,
}, async (t) => {
  const f = await startFlowsSystem(t, 1);
  const { city } = f;
  city.refuse('12345', () => true, 422);
  // The flows' own broker account, as the palette's alarm in uses it: the gateway lets it watch every unit's alarms.
  const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${f.sys.mqttPort}`, {
    username: 'flows',
    password: f.sys.flowsPassword,
    reconnectPeriod: 0,
  });
  t.after(() => watcher.endAsync(true));
  const granted = await watcher.subscribeAsync(filters.allUplink('alarm'), { qos: 1 });
  assert.deepEqual(
    granted.map((g) => g.qos),
    [1],
  );
  const heard = new Promise<string>((r) => watcher.once('message', (topic) => r(topic)));
  const id = await f.tamper(0);
  assert.equal(await heard, topics.uplink(f.sys.units[0]?.id ?? '', 'alarm'));
  const dead = await waitFor(
    'the dead letter',
    async () => ((await f.api('GET', '/api/flows/dead-letters')).body.deadLetters as DeadLetter[]).find((d) => d.ticketId === id),
    30_000,
  );
  assert.equal(dead.target, '12345');
  assert.match(dead.reason, /^12345 refused: 422 .*not a matter this platform takes/);
  assert.equal(city.accepted('12345').length, 0);
  // Open311 is its own lane: it took the request while 12345 refused, and the retry is a repeat it recognises.
  await waitFor('the request at Open311', () => city.accepted('open311').length >= 1 || undefined, 30_000);

  // The city fixed its category list; a commander may not retry, a dispatcher may.
  city.clearRefusals();
  assert.equal((await f.api('POST', `/api/flows/dead-letters/${dead.seq}/retry`, 'commander')).status, 403);
  assert.equal((await f.api('POST', `/api/flows/dead-letters/${dead.seq}/retry`, 'dispatcher')).status, 200);
  await waitFor('the retried ticket at 12345', () => city.accepted('12345').length >= 1 || undefined, 30_000);
  assert.deepEqual(
    city.accepted('12345').map((r) => r.body.code),
    [id],
  );
  assert.deepEqual((await f.api('GET', '/api/flows/dead-letters')).body.deadLetters, []);
  assert.equal(city.accepted('open311').length, 1, 'one Open311 request for the episode');

  // Inbound: refused calls first, each leaving the ticket where it is.
  const state = async () => (await f.ticket(id)).state;
  const was = await state();
  const unauth = await f.hook('/hooks/12345/status', { code: id, status: 'signed' }, null);
  assert.deepEqual([unauth.status, (unauth.body.error as { code: string }).code], [401, 'UNAUTHENTICATED']);
  const wrong = await f.hook('/hooks/12345/status', { code: id, status: 'signed' }, 'swi_not-the-token');
  assert.equal(wrong.status, 401);
  const bad = await f.hook('/hooks/12345/status', { code: id, status: 'approved' });
  assert.equal(bad.status, 400);
  assert.equal((bad.body.error as { path: string }).path, '/status');
  const garbled = await f.hook('/hooks/12345/status', '{"code":');
  assert.equal(garbled.status, 400);
  assert.match((garbled.body.error as { message: string }).message, /not JSON/);
  const early = await f.hook('/hooks/12345/status', { code: id, status: 'closed', satisfaction: 'satisfied' });
  assert.equal(early.status, 409, 'a close before feedback is the fleet refusing the move');
  const unknown = await f.hook('/hooks/12345/status', { code: 'no-such-ticket', status: 'signed' });
  assert.equal(unknown.status, 404);
  assert.equal(await state(), was, 'nothing changed');

  // The platform's statuses, one of them sent twice.
  const results: [number, unknown][] = [];
  for (const body of [
    { code: id, status: 'signed', handler: '道里区城管 王工', externalId: 'WO-1' },
    { code: id, status: 'signed', handler: '道里区城管 王工', externalId: 'WO-1' },
    { code: id, status: 'handling' },
    { code: id, status: 'handled', feedback: '围挡已修复，现场已恢复' },
    { code: id, status: 'closed', satisfaction: 'satisfied' },
  ]) {
    const r = await f.hook('/hooks/12345/status', body);
    results.push([r.status, [r.body.state, r.body.applied]]);
  }
  assert.deepEqual(results, [
    [200, ['signed-for', true]],
    [200, ['signed-for', false]],
    [200, ['handling', true]],
    [200, ['feedback', true]],
    [200, ['closed', true]],
  ]);
  const timeline = (await f.api('GET', `/api/tickets/${id}`)).body.timeline as { action: string; actor: string; reason: string | null }[];
  assert.deepEqual(
    timeline.filter((e) => e.actor.startsWith('12345:')).map((e) => [e.action, e.actor, e.reason]),
    [
      ['sign', '12345:道里区城管 王工', null],
      ['handle', '12345:outside', null],
      ['feedback', '12345:outside', '围挡已修复，现场已恢复'],
      ['close', '12345:outside', null],
    ],
  );
  // Each of those moves went out to the platform too, once and in order.
  await waitFor('the four changes at 12345', () => city.accepted('12345').length >= 5 || undefined, 30_000);
  assert.deepEqual(
    city.accepted('12345').map((r) => r.body.state),
    ['dispatched', 'signed-for', 'handling', 'feedback', 'closed'],
  );
  assert.deepEqual(orderedOnce(city), []);

  // The editor is behind its admin login; the fleet token is in the credentials file, encrypted.
  const editor = `http://127.0.0.1:${f.flows().httpPort}`;
  assert.equal((await fetch(`${editor}/flows`)).status, 401);
  const login = await fetch(`${editor}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { access_token } = (await login.json()) as { access_token: string };
  const deployed = await fetch(`${editor}/flows`, { headers: { authorization: `Bearer ${access_token}` } });
  assert.equal(deployed.status, 200);
  assert.ok(
    ((await deployed.json()) as { type: string }[]).some((n) => n.type === 'shouwang deliver'),
    'the default flows are deployed',
  );
  const dir = join(f.dataDir, 'flows');
  const [flowFile, credFile] = await Promise.all([
    readFile(join(dir, 'flows.json'), 'utf8'),
    readFile(join(dir, 'flows_cred.json'), 'utf8'),
  ]);
  assert.doesNotMatch(flowFile, /swt_/, 'no token in the flow file');
  assert.doesNotMatch(credFile, /swt_/, 'the credentials file is encrypted');
  assert.match(credFile, /^\{"\$":"[0-9a-f]{32}/);
});
