/**
 * A campaign that paused itself on a rollback and then ended (its last unit at an end: the second
 * rollback of two, whichever reports first) reads as ended, not as paused: no pause reason with the
 * figures of the moment it paused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, startBroker, startTestFleet, waitFor } from './helpers.ts';
import { type Behaviour, protocolUnit, release, signer, trustedKeysFile } from './ota-helpers.ts';

const ADMIN = 'ota-ended-admin-token';
const rollsBack: Behaviour = () => ({
  answer: 'queued',
  reports: [{ step: 'health-check' }, { step: 'rolled-back', reason: 'health-check', failedChecks: ['gps'] }],
});

test('a campaign that paused itself and then ended shows no pause', async (t) => {
  const broker = await startBroker(t);
  const key = signer('k1');
  const fleet = await startTestFleet(t, broker.url, {
    auth: { bootstrapAdminToken: ADMIN },
    ota: { trustedKeysFile: await trustedKeysFile(t, [key]), answerS: 2, timerPollS: 3600 },
  });
  const api = apiClient(fleet.base);
  assert.equal((await api('POST', '/api/ota/releases', ADMIN, release(key, '3.0.1', ['3.0.0']).publish)).status, 201);
  for (const [id, b] of [
    ['hrb-e01', rollsBack],
    ['hrb-e02', rollsBack],
  ] as const) {
    assert.equal((await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4' })).status, 201);
    await protocolUnit(t, broker.url, id, Date.now, b);
  }
  await waitFor(() => ['hrb-e01', 'hrb-e02'].every((id) => fleet.state.get(id)?.liveness.status === 'online'));
  const created = await api('POST', '/api/ota/campaigns', ADMIN, {
    name: 'two units',
    version: '3.0.1',
    target: { units: ['hrb-e01', 'hrb-e02'] },
    canary: 2,
  });
  const id = (created.body as { id: string }).id;
  await api('POST', `/api/ota/campaigns/${id}/start`, ADMIN);
  type View = { state: string; pause: unknown; pauseReason: unknown; counts: Record<string, number> };
  const view = async () => (await api('GET', `/api/ota/campaigns/${id}`, ADMIN)).body as View;
  await waitFor(async () => (await view()).state === 'completed', 10_000);
  const c = await view();
  assert.equal(c.counts['rolled-back'], 2);
  assert.deepEqual([c.pause, c.pauseReason], [null, null], 'ended, not paused');
});
