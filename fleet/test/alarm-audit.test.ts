/**
 * The audit log covers the alarm loop: alarm answers, ticket moves and the flows' statuses and
 * settlements are on record — who, what, when, how it ended, refusals included — and readable per
 * ticket (`/api/tickets/:id/audit`) and per unit (`/api/units/:id/audit`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLOWS_ROUTES } from '@shouwang/protocol';
import { sql } from 'kysely';
import { intrusion } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-alarm-audit-test';

interface Entry {
  at: number;
  actor: string;
  role: string;
  action: string;
  unitId: string | null;
  ticketId: string | null;
  status: number;
  result: string;
}

test('alarm answers, ticket moves and flows writes are on the audit log, per ticket and per unit', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const token = async (role: string, name: string) => (await api('POST', '/api/tokens', ADMIN, { role, name })).body.token as string;
  const commander = await token('commander', 'Commander Zhao');
  const operator = await token('department-operator', 'Officer Li');
  const flows = await token('flows', 'Node-RED');
  const unit = await unitClient(t, broker.url, 'hrb-601');
  await send(unit, 'hrb-601', 'alarm', intrusion(1, 'motion-1'));
  await waitFor(async () => ((await api('GET', '/api/tickets', ADMIN)).body.tickets as unknown[]).length === 1);
  const [ticket] = (await api('GET', '/api/tickets', ADMIN)).body.tickets as [{ id: string }];
  const [alarm] = (await api('GET', '/api/alarms', ADMIN)).body.alarms as [{ episode: string }];
  const episode = encodeURIComponent(alarm.episode);

  assert.equal((await api('POST', `/api/alarms/${episode}/acknowledge`, commander)).status, 200);
  assert.equal((await api('POST', `/api/alarms/${episode}/acknowledge`, commander)).status, 409);
  assert.equal((await api('POST', `/api/alarms/${episode}/comments`, commander, { text: 'patrol sent' })).status, 201);
  assert.equal((await api('POST', `/api/tickets/${ticket.id}/sign`, commander, {})).status, 403);
  assert.equal((await api('POST', `/api/tickets/${ticket.id}/sign`, operator, {})).status, 200);
  const status = { ticketId: ticket.id, action: 'handle', source: '12345', actor: 'hotline' };
  assert.equal((await api('POST', FLOWS_ROUTES.status, flows, status)).status, 200);
  const leased = (await api('POST', FLOWS_ROUTES.lease, flows, { limit: 10 })).body.events as { seq: number }[];
  const settled = await api('POST', FLOWS_ROUTES.settle, flows, { settlements: leased.map((e) => ({ seq: e.seq, outcome: 'delivered' })) });
  assert.equal(settled.status, 200);

  const byTicket = (await api('GET', `/api/tickets/${ticket.id}/audit`, commander)).body.entries as Entry[];
  assert.deepEqual(
    byTicket.map((e) => [e.actor, e.action, e.status, e.result]),
    [
      ['Node-RED', 'flows-status', 200, 'ok'],
      ['Officer Li', 'ticket-sign', 200, 'ok'],
      ['Commander Zhao', 'ticket-sign', 403, 'FORBIDDEN'],
      // Once the alarm has its ticket, an answer to it is on the ticket's log too.
      ['Commander Zhao', 'acknowledge-alarm', 200, 'ok'],
    ],
  );
  assert.ok(byTicket.every((e) => e.ticketId === ticket.id));
  const byUnit = (await api('GET', '/api/units/hrb-601/audit', commander)).body.entries as Entry[];
  assert.deepEqual(
    byUnit.map((e) => [e.actor, e.action, e.status, e.result]),
    [
      ['Officer Li', 'ticket-sign', 200, 'ok'],
      ['Commander Zhao', 'comment-alarm', 201, 'ok'],
      ['Commander Zhao', 'acknowledge-alarm', 409, 'CONFLICT'],
      ['Commander Zhao', 'acknowledge-alarm', 200, 'ok'],
    ],
  );
  const settles = (await api('GET', `/api/tickets/${ticket.id}/audit?limit=1`, commander)).body.entries as Entry[];
  assert.equal(settles.length, 1, 'limited');
  // A settlement names no one ticket (it settles many): it is on the log, under neither.
  const { rows } = await sql<{ role: string }>`select role from audit_log where action = 'flows-settle'`.execute(fleet.loop.ticketStore.db);
  assert.deepEqual(
    rows.map((r) => r.role),
    ['flows'],
  );
  assert.equal((await api('GET', `/api/tickets/${ticket.id}/audit`, null)).status, 401);
});
