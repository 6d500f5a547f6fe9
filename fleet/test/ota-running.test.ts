/**
 * The version a unit runs is kept with its live state: across a fleet restart (and a broker that
 * no longer holds the retained report) it is in the unit view, and a campaign offers the unit the
 * delta from that version alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';
import { protocolUnit, release, signer, trustedKeysFile } from './ota-helpers.ts';

const ADMIN = 'ota-running-admin-token';

test('a unit’s running version survives a fleet restart, shows in its view, and chooses the delta its job offers', async (t) => {
  const key = signer('k2026');
  const dataDir = await tempDir(t);
  const ota = { trustedKeysFile: await trustedKeysFile(t, [key]), timerPollS: 3600, answerS: 2 };
  const auth = { bootstrapAdminToken: ADMIN };

  const before = await startBroker(t);
  const first = await startTestFleet(t, before.url, { dataDir, auth, ota });
  const reporter = await unitClient(t, before.url, 'hrb-901');
  await send(reporter, 'hrb-901', 'ota', { seq: 1, ts: Date.now(), running: '1.0.0', step: 'queued' });
  await waitFor(async () => first.state.get('hrb-901')?.running?.version === '1.0.0');
  await first.close();

  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { dataDir, auth, ota });
  assert.equal(fleet.state.get('hrb-901')?.running?.version, '1.0.0', 'restored from storage, not from a retained report');
  const api = apiClient(fleet.base);
  assert.equal(((await api('GET', '/api/units/hrb-901', ADMIN)).body.running as { version: string }).version, '1.0.0');

  assert.equal((await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-901', board: 'pi4' })).status, 201);
  assert.equal((await api('POST', '/api/ota/releases', ADMIN, release(key, '1.1.0', ['0.9.0', '1.0.0']).publish)).status, 201);
  const unit = await protocolUnit(t, broker.url, 'hrb-901', Date.now, () => ({ answer: 'queued', reports: [] }));
  await waitFor(async () => fleet.state.get('hrb-901')?.online === true);
  const c = await api('POST', '/api/ota/campaigns', ADMIN, { name: 'patch', version: '1.1.0', target: { units: ['hrb-901'] } });
  assert.equal((await api('POST', `/api/ota/campaigns/${c.body.id as string}/start`, ADMIN)).status, 200);
  await waitFor(async () => unit.jobs.length === 1);
  assert.deepEqual(
    unit.jobs[0]?.artifacts.map((a) => a.name),
    ['agent-1.1.0.zst', 'agent-1.0.0-to-1.1.0.zstpatch'],
    'the full download and the one delta from what it runs',
  );
});
