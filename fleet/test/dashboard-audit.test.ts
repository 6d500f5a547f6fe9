/**
 * The audit log the dashboard shows per unit: every write through the API by a known caller —
 * register, claim, update, rotate, revoke, commands — with who, role, when and how it ended,
 * refusals included; a caller with no valid token leaves no entry (there is no one to name).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEntry as Entry } from '../web/model.ts';
import { apiClient, startBroker, startTestFleet } from './helpers.ts';

const ADMIN = 'audit-admin-token';

test('every API write on a unit is on its audit log, refusals included; unauthenticated calls are not', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const issue = async (role: string, name: string) =>
    (await api('POST', '/api/tokens', ADMIN, { role, name })).body as { id: string; token: string };
  const tech = await issue('technician', 'Technician Wang');
  const commander = await issue('commander', 'Commander Zhao');
  const started = Date.now();

  const { claimCode } = (await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-030' })).body as { claimCode: string };
  assert.equal((await api('POST', '/api/claim', tech.token, { code: claimCode, gridCell: 'HRB-B2' })).status, 201);
  assert.equal((await api('PATCH', '/api/registry/units/hrb-030', commander.token, { gridCell: 'HRB-B3' })).status, 403);
  assert.equal((await api('POST', '/api/registry/units/hrb-030/rotate', ADMIN)).status, 200);
  assert.equal((await api('POST', '/api/registry/units/hrb-030/revoke', 'swt_unknown')).status, 401);
  assert.equal((await api('POST', '/api/registry/units/hrb-030/revoke', ADMIN)).status, 200);
  // A command to a unit the fleet never heard of: refused before anything is sent, and recorded.
  assert.equal((await api('POST', '/api/units/hrb-031/commands/ping', tech.token, {})).status, 404);

  const log = (await api('GET', '/api/units/hrb-030/audit', commander.token)).body.entries as Entry[];
  assert.deepEqual(
    log.map((e) => [e.actor, e.role, e.action, e.status, e.result]),
    [
      ['bootstrap admin', 'admin', 'revoke', 200, 'ok'],
      ['bootstrap admin', 'admin', 'rotate', 200, 'ok'],
      ['Commander Zhao', 'commander', 'update', 403, 'FORBIDDEN'],
      ['Technician Wang', 'technician', 'claim', 201, 'ok'],
      ['bootstrap admin', 'admin', 'register', 201, 'ok'],
    ],
  );
  assert.equal(log[2]?.message, 'role commander may not manage-units');
  assert.deepEqual([log[3]?.actorId, log[0]?.actorId], [tech.id, 'bootstrap']);
  assert.ok(log.every((e) => e.at >= started && e.at <= Date.now()));
  const other = (await api('GET', '/api/units/hrb-031/audit?limit=5', tech.token)).body.entries as Entry[];
  assert.deepEqual(
    other.map((e) => [e.actor, e.action, e.result]),
    [['Technician Wang', 'ping', 'NOT_FOUND']],
  );
  assert.equal((await api('GET', '/api/units/hrb-030/audit', null)).status, 401);
});
