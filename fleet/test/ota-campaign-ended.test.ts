/**
 * A campaign that paused itself on a rollback and then ended (its last unit at an end: the second
 * rollback of two, whichever reports first) reads as ended, not as paused: no pause reason with the
 * figures of the moment it paused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from './helpers.ts';
import { protocolUnit, rollsBack, startOtaFleet } from './ota-helpers.ts';

const ADMIN = 'ota-ended-admin-token';

test('a campaign that paused itself and then ended shows no pause', async (t) => {
  const { broker, fleet, api } = await startOtaFleet(t, ADMIN, '3.0.1', 2);
  for (const id of ['hrb-e01', 'hrb-e02']) {
    assert.equal((await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4' })).status, 201);
    await protocolUnit(t, broker.url, id, Date.now, rollsBack);
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
