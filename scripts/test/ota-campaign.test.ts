/**
 * Campaigns end to end: the real gateway process, the real fleet (registry, releases, campaigns,
 * signed artifact links) and simulated units run as systemd runs them (A/B slots, boot counter,
 * Restart=always). A good patch release rolls out by delta to every unit; a release that crashes
 * on start is rolled back by the canary unit itself and the campaign stops after the canary group.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { sql } from 'kysely';
import { publishBody } from '../../device/release/release.ts';
import { makeReleases, type Release, supervisedUnit } from '../../device/test/ota-harness.ts';
import type { UnitView as LiveView } from '../../fleet/src/domain/unit-state.ts';
import type { CampaignView, UnitView } from '../../fleet/src/ota/campaigns.ts';
import { startGateway } from '../../fleet/test/gateway-helper.ts';
import { apiClient, startTestFleet, tempDir, waitFor } from '../../fleet/test/helpers.ts';

const ADMIN = 'ota-e2e-admin-token';

async function system(t: TestContext, ids: string[]) {
  const rel = await makeReleases(t);
  const gw = await startGateway(t, await tempDir(t));
  const fleet = await startTestFleet(t, gw.mqttUrl, {
    mqtt: { username: 'fleet', password: gw.fleetPassword },
    registry: { credentialsFile: gw.credentialsFile },
    auth: { bootstrapAdminToken: ADMIN },
    ota: { trustedKeysFile: rel.trustedFile, timerPollS: 0.2, answerS: 5, recheckS: 1 },
  });
  const api = apiClient(fleet.base);
  const units = [];
  for (const id of ids) {
    const reg = await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4', tags: ['e2e'] });
    const claim = await api('POST', '/api/claim', ADMIN, { code: reg.body.claimCode });
    assert.equal(claim.status, 201);
    units.push(
      await supervisedUnit(t, {
        unitId: id,
        url: gw.mqttUrl,
        password: claim.body.password as string,
        base: rel.base,
        trustedFile: rel.trustedFile,
      }),
    );
  }
  await waitFor(() => ids.every((id) => fleet.state.get(id)?.liveness.status === 'online'), 60_000);
  const publish = async (r: Release) => assert.equal((await api('POST', '/api/ota/releases', ADMIN, publishBody(r.dir))).status, 201);
  const campaign = async (id: string) =>
    (await api('GET', `/api/ota/campaigns/${id}`, ADMIN)).body as unknown as CampaignView & { units: UnitView[] };
  const run = async (version: string, body: Record<string, unknown> = {}) => {
    const c = await api('POST', '/api/ota/campaigns', ADMIN, { name: `to ${version}`, version, target: { tags: ['e2e'] }, ...body });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const id = (c.body as { id: string }).id;
    assert.equal((await api('POST', `/api/ota/campaigns/${id}/start`, ADMIN)).status, 200);
    return id;
  };
  return { rel, fleet, api, units, publish, campaign, run };
}

test('a patch release rolls out by delta to every unit, canary first, and each is committed after its health check', async (t) => {
  const s = await system(t, ['e2e-001', 'e2e-002', 'e2e-003']);
  await s.publish(s.rel.next);
  const id = await s.run('0.2.0', { canary: 1, waves: [100], soakS: 1 });
  await waitFor(async () => (await s.campaign(id)).state === 'completed', 120_000).catch(async (err) => {
    console.error(JSON.stringify(await s.campaign(id), null, 2));
    throw err;
  });
  const done = await s.campaign(id);
  assert.equal(done.counts.updated, 3);
  assert.deepEqual(done.downloads, { delta: 3, full: 0 });
  const delta = s.rel.next.manifest.deltas[0]?.size ?? 0;
  for (const u of done.units) {
    assert.equal(s.fleet.state.get(u.unitId)?.running?.version, '0.2.0');
    assert.ok((u.transferred ?? 0) <= delta, `${u.unitId} fetched ${u.transferred} B for a ${delta} B delta`);
    assert.ok(s.fleet.ota.served.of(u.unitId) <= delta * 1.1, `served ${s.fleet.ota.served.of(u.unitId)} B to ${u.unitId}`);
  }
});

test('a release that crashes on start is rolled back by the canary unit and the campaign stops after the canary group', async (t) => {
  const s = await system(t, ['e2e-101', 'e2e-102', 'e2e-103']);
  const bad = await s.rel.release('0.2.1', { bundle: Buffer.from('process.exit(3);\n'), from: [s.rel.base] });
  await s.publish(bad);
  const id = await s.run('0.2.1', { canary: 1, waves: [100], soakS: 1, failureThreshold: 0 });
  await waitFor(async () => (await s.campaign(id)).state === 'paused', 120_000).catch(async (err) => {
    console.error(JSON.stringify(await s.campaign(id), null, 2));
    throw err;
  });
  const paused = await s.campaign(id);
  const canary = paused.units.find((u) => u.wave === 0);
  assert.equal(canary?.state, 'rolled-back');
  assert.match(canary?.detail ?? '', /crash-loop/);
  assert.equal(s.fleet.state.get(canary?.unitId ?? '')?.running?.version, '0.1.0', 'back on the good slot, and reporting');
  assert.equal(paused.counts.pending, 2, 'no unit beyond the canary group was offered the release');
});

test('a unit below the campaign battery floor defers: counted waiting, the campaign does not pause, nothing is downloaded', async (t) => {
  const s = await system(t, ['e2e-201', 'e2e-202']);
  await s.publish(s.rel.next);
  const id = await s.run('0.2.0', {
    canary: 1,
    waves: [100],
    soakS: 1,
    failureThreshold: 0,
    policy: { allowSatellite: false, minBatteryPct: 99.5 },
  });
  await waitFor(
    async () => (await s.campaign(id)).counts.waiting === 1 && (await s.campaign(id)).units.some((u) => u.state === 'deferred'),
    60_000,
  );
  // The wave timer has looked at it twice since: still waiting, never failed, no wave past the canary.
  const fired = async () =>
    Number(
      (
        await sql<{
          n: number;
        }>`select count(*) as n from ota_timers where campaign_id = ${id} and fired_at is not null and kind like 'wave-%'`.execute(
          s.fleet.loop.ticketStore.db,
        )
      ).rows[0]?.n,
    );
  await waitFor(async () => (await fired()) >= 2, 30_000);
  const c = await s.campaign(id);
  const canary = c.units.find((u) => u.wave === 0);
  assert.deepEqual([c.state, canary?.state, canary?.bucket, canary?.reason], ['running', 'deferred', 'waiting', 'battery']);
  assert.equal(c.counts.pending, 1, 'the next wave waits for a unit that proves the release');
  assert.equal(s.fleet.ota.served.of(canary?.unitId ?? ''), 0);
});

test('a unit restarting into its new slot shows as restarting into that release, not asleep, then online on it', async (t) => {
  const s = await system(t, ['e2e-301']);
  const seen = [s.fleet.state.get('e2e-301')?.liveness.status ?? 'unheard'];
  const asked: Promise<unknown>[] = [];
  s.fleet.state.on('unit', (v) => {
    if (v.id !== 'e2e-301') return;
    const word = v.liveness.status === 'restarting' ? `restarting into ${v.liveness.restartingInto}` : v.liveness.status;
    if (seen.at(-1) !== word) seen.push(word);
    // What the dashboard reads, asked while the unit is between its two slots (a start takes seconds).
    if (v.liveness.status === 'restarting') asked.push(s.api('GET', '/api/units', ADMIN).then((r) => r.body.units));
  });
  await s.publish(s.rel.next);
  const id = await s.run('0.2.0', { canary: 1, waves: [100], soakS: 1 });
  await waitFor(async () => (await s.campaign(id)).state === 'completed', 120_000);
  assert.deepEqual(seen, ['online', 'restarting into 0.2.0', 'online'], 'the only silence was the restart, and it said so');
  const api = (await Promise.all(asked)).flat() as LiveView[];
  const during = api.find((u) => u.id === 'e2e-301');
  assert.equal(during?.liveness.status, 'restarting');
  assert.equal(during?.liveness.restartingInto, '0.2.0');
  const health = 20_000;
  assert.ok((during?.liveness.dueBy ?? 0) - Date.now() <= health, 'due back within the health window');
  const after = s.fleet.state.get('e2e-301');
  assert.deepEqual([after?.liveness.status, after?.running?.version], ['online', '0.2.0']);
});
