/**
 * Campaigns on SQLite and on a real PostgreSQL, with units answering through the protocol over a
 * real broker (persistent sessions, retained `ota` reports) and the fleet's clock injected: a
 * failing release stops after the canary group; a unit deferring for battery and a unit asleep
 * through a wave are waiting, not failed, and the sleeper updates when it wakes; a unit that never
 * reports is counted at the deadline; two instances release each wave once.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { sql } from 'kysely';
import type { CampaignView, UnitView } from '../src/ota/campaigns.ts';
import { apiClient, startBroker, startTestFleet, waitFor } from './helpers.ts';
import { type Behaviour, protocolUnit, release, signer, trustedKeysFile } from './ota-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const ADMIN = 'ota-campaign-admin-token';
const H = 3_600_000;

type Full = CampaignView & { units: UnitView[] };

/** Every step of a good update, then the commit. */
const healthy: Behaviour = () => ({
  answer: 'queued',
  reports: [
    { step: 'downloading', download: { kind: 'delta', done: 0, total: 512, transferred: 0, resumes: 0 }, etaS: 4 },
    { step: 'downloading', download: { kind: 'delta', done: 512, total: 512, transferred: 512, resumes: 0 }, etaS: 0 },
    { step: 'verifying' },
    { step: 'installing' },
    { step: 'restarting' },
    { step: 'health-check' },
    { step: 'committed' },
  ],
});

/** Starts, but cannot publish after the switch: the health check fails and the unit rolls back. */
const rollsBack: Behaviour = () => ({
  answer: 'queued',
  reports: [
    { step: 'downloading', download: { kind: 'delta', done: 512, total: 512, transferred: 512, resumes: 0 } },
    { step: 'installing' },
    { step: 'restarting' },
    { step: 'health-check' },
    { step: 'rolled-back', reason: 'health-check', failedChecks: ['mqtt'] },
  ],
});

/** Below the battery floor: holds the job back and says why. */
const lowBattery: Behaviour = () => ({ answer: 'deferred', reports: [{ step: 'deferred', reason: 'battery', soc: 12 }] });

async function rig(t: TestContext, storageUrl: string, instances = 1) {
  const broker = await startBroker(t);
  const key = signer('k2026');
  // `now` is handed around unbound (clock.now), so it reads the object by name.
  const clock = { at: Date.parse('2026-12-01T10:00:00Z'), now: (): number => clock.at };
  const ota = { trustedKeysFile: await trustedKeysFile(t, [key]), timerPollS: 3600, answerS: 2, recheckS: 60, urlSecret: 'test-secret' };
  const fleets = [];
  for (let i = 0; i < instances; i++)
    fleets.push(
      await startTestFleet(t, broker.url, { storageUrl, instanceId: `ota-${i}`, clock, auth: { bootstrapAdminToken: ADMIN }, ota }),
    );
  const fleet = fleets[0] as (typeof fleets)[number];
  const api = apiClient(fleet.base);
  const maintainer = ((await api('POST', '/api/tokens', ADMIN, { role: 'maintainer', name: 'ops' })).body as { token: string }).token;
  assert.equal((await api('POST', '/api/ota/releases', maintainer, release(key, '1.1.0', ['1.0.0']).publish)).status, 201);
  const register = async (ids: string[], tags: string[]) => {
    for (const id of ids) assert.equal((await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4', tags })).status, 201);
  };
  const campaign = async (id: string) => (await api('GET', `/api/ota/campaigns/${id}`, maintainer)).body as unknown as Full;
  const unitOf = async (id: string, unitId: string) => (await campaign(id)).units.find((u) => u.unitId === unitId);
  const create = async (body: Record<string, unknown>) => {
    const r = await api('POST', '/api/ota/campaigns', maintainer, { name: 'winter patch', version: '1.1.0', ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return (r.body as { id: string }).id;
  };
  const move = async (id: string, m: string) => api('POST', `/api/ota/campaigns/${id}/${m}`, maintainer);
  const unit = (id: string, b: Behaviour) => protocolUnit(t, broker.url, id, () => clock.at, b);
  return { fleets, fleet, api, clock, maintainer, register, campaign, unitOf, create, move, unit, broker };
}

function suite(name: string, storage: () => Promise<string>) {
  describe(`OTA campaigns on ${name}`, () => {
    test('a release that rolls back on the canary group pauses the campaign by itself; no later wave is released', async (t) => {
      const r = await rig(t, await storage());
      const ids = ['hrb-c01', 'hrb-c02', 'hrb-c03', 'hrb-c04', 'hrb-c05', 'hrb-c06'];
      await r.register(ids, ['north']);
      const units = await Promise.all(ids.map((id) => r.unit(id, rollsBack)));
      await waitFor(() => ids.every((id) => r.fleet.state.get(id)?.liveness.status === 'online'));
      const id = await r.create({ target: { tags: ['north'] }, canary: 2, waves: [50, 100], failureThreshold: 0.1, soakS: 600 });
      const draft = await r.campaign(id);
      assert.deepEqual(
        draft.waveSummary.map((w) => w.units),
        [2, 1, 3],
        'canary 2, then 50 % of 6 = 3 reached, then the rest',
      );
      assert.equal((await r.move(id, 'start')).status, 200);
      await waitFor(async () => {
        const c = await r.campaign(id);
        return c.state === 'paused' && c.counts['rolled-back'] === 2;
      }, 10_000);
      const paused = await r.campaign(id);
      assert.match(paused.pauseReason ?? '', /^1 of 2 units failed or rolled back \(threshold 10 %\)$/, 'paused at the first rollback');
      const canary = paused.units.filter((u) => u.wave === 0);
      assert.ok(canary.every((u) => u.state === 'rolled-back' && /health-check · checks failed: mqtt/.test(u.detail ?? '')));

      r.clock.at += 3 * 600_000;
      await r.fleet.ota.campaigns.runDue();
      const after = await r.campaign(id);
      assert.equal(after.releasedWave, 0, 'the wave timer found the campaign paused');
      assert.equal(after.counts.pending, 4);
      const later = units.filter((u) => !canary.some((c) => c.unitId === u.id));
      assert.deepEqual(
        later.map((u) => u.jobs.length),
        [0, 0, 0, 0],
        'no unit beyond the canary group was given the job',
      );
      assert.equal((await r.move(id, 'pause')).status, 409, 'already paused');
      assert.equal((await r.move(id, 'abort')).status, 200);
      assert.equal((await r.campaign(id)).counts.cancelled, 4);
    });

    test('a unit deferring for battery and a unit asleep through its wave wait; the sleeper updates on waking; a silent unit is counted at the deadline', async (t) => {
      const r = await rig(t, await storage());
      await r.register(['hrb-a01', 'hrb-a02', 'hrb-a03', 'hrb-a04'], ['hill']);
      await r.unit('hrb-a01', healthy);
      await r.unit('hrb-a02', lowBattery);
      const sleeper = await r.unit('hrb-a03', healthy);
      // hrb-a04 is registered but never heard from.
      await waitFor(() => r.fleet.state.get('hrb-a03')?.liveness.status === 'online');
      await sleeper.sleep(r.clock.at + 6 * H);
      await waitFor(() => r.fleet.state.get('hrb-a03')?.liveness.status === 'on-schedule');

      const id = await r.create({
        target: { tags: ['hill'] },
        canary: 1,
        canaryUnits: ['hrb-a01'],
        waves: [100],
        soakS: 600,
        deadlineH: 48,
      });
      assert.equal((await r.move(id, 'start')).status, 200);
      await waitFor(async () => (await r.unitOf(id, 'hrb-a01'))?.state === 'updated', 10_000);
      const canary = await r.unitOf(id, 'hrb-a01');
      assert.equal(canary?.download, 'delta');
      assert.equal(canary?.transferred, 512);

      r.clock.at += 600_000;
      assert.equal(await r.fleet.ota.campaigns.runDue(), 1, 'the wave timer fires once');
      // The unit answers the job (deferred) and reports why in a message of its own: wait for both.
      await waitFor(async () => {
        const u = await r.unitOf(id, 'hrb-a02');
        return u?.state === 'deferred' && u.reason === 'battery';
      }, 10_000);
      // The sleeper's job waits in its session at the broker; nobody answered for it.
      await waitFor(async () => (await r.unitOf(id, 'hrb-a03'))?.deliveredAt !== null, 10_000);
      const waiting = await r.campaign(id);
      assert.equal(waiting.state, 'running', 'waiting units do not pause a campaign');
      assert.equal(waiting.counts.waiting, 3, 'deferred for battery, asleep, never heard');
      assert.equal(waiting.counts.failed + waiting.counts['rolled-back'], 0);
      const low = waiting.units.find((u) => u.unitId === 'hrb-a02');
      assert.deepEqual(
        [low?.state, low?.bucket, low?.reason, low?.soc, low?.detail],
        ['deferred', 'waiting', 'battery', 12, 'battery 12 %'],
      );
      const asleep = waiting.units.find((u) => u.unitId === 'hrb-a03');
      assert.deepEqual([asleep?.state, asleep?.bucket, asleep?.reach], ['queued', 'waiting', 'asleep']);

      r.clock.at += 6 * H;
      await sleeper.wake();
      await waitFor(async () => (await r.unitOf(id, 'hrb-a03'))?.state === 'updated', 10_000);
      assert.equal(sleeper.jobs.length, 1, 'one job for the campaign, however often it was handed over');

      r.clock.at += 48 * H;
      await r.fleet.ota.campaigns.runDue();
      const done = await r.campaign(id);
      assert.equal(done.state, 'completed');
      assert.deepEqual(
        Object.fromEntries(done.units.map((u) => [u.unitId, u.state])),
        { 'hrb-a01': 'updated', 'hrb-a02': 'expired', 'hrb-a03': 'updated', 'hrb-a04': 'no-report' },
        'never "in progress" forever: the silent unit is no-report, the deferring one expired',
      );
      assert.equal(done.counts['no-report'], 1);
      assert.equal(done.counts.expired, 1);
    });

    test('a job handed to a unit that stays online and never answered is handed again on the beat, once per retry', async (t) => {
      const r = await rig(t, await storage());
      await r.register(['hrb-r01'], ['river']);
      let asked = 0;
      // The first request is lost on the unit's side (say, the fleet restarted before the answer).
      await r.unit('hrb-r01', (job) => (++asked === 1 ? { answer: null, reports: [] } : healthy(job)));
      await waitFor(() => r.fleet.state.get('hrb-r01')?.liveness.status === 'online');
      const id = await r.create({ target: { tags: ['river'] }, canary: 1, waves: [100] });
      await r.move(id, 'start');
      await waitFor(() => asked === 1);
      await r.fleet.ota.campaigns.runDue();
      await r.fleet.ota.campaigns.idle();
      assert.equal(asked, 1, 'not again before the retry time');
      assert.equal((await r.unitOf(id, 'hrb-r01'))?.state, 'queued');
      r.clock.at += 300_001;
      await r.fleet.ota.campaigns.runDue();
      await waitFor(async () => (await r.unitOf(id, 'hrb-r01'))?.state === 'updated', 10_000);
      assert.equal(asked, 2);
    });

    test('abort: units that never had the job are cancelled, a unit holding it is told to drop it and says so', async (t) => {
      const r = await rig(t, await storage());
      await r.register(['hrb-x01', 'hrb-x02'], ['east']);
      const holder = await r.unit('hrb-x01', lowBattery);
      await waitFor(() => r.fleet.state.get('hrb-x01')?.liveness.status === 'online');
      const id = await r.create({ target: { tags: ['east'] }, canary: 1, canaryUnits: ['hrb-x01'], waves: [100] });
      await r.move(id, 'start');
      await waitFor(async () => (await r.unitOf(id, 'hrb-x01'))?.state === 'deferred', 10_000);
      assert.equal((await r.move(id, 'abort')).status, 200);
      await waitFor(async () => (await r.unitOf(id, 'hrb-x01'))?.state === 'cancelled', 10_000);
      const aborted = await r.campaign(id);
      assert.equal(aborted.state, 'aborted');
      assert.deepEqual(Object.fromEntries(aborted.units.map((u) => [u.unitId, u.state])), {
        'hrb-x01': 'cancelled',
        'hrb-x02': 'cancelled',
      });
      assert.equal(holder.jobs.length, 1);
      assert.equal((await r.move(id, 'resume')).status, 409, 'an aborted campaign stays aborted');
    });

    test('the last units committing at the same moment complete the campaign', async (t) => {
      // Each report settles the campaign in its own transaction: two at once must not each see the
      // other unit still working (write skew) and leave the campaign running until its deadline.
      // The race is lost only when the transactions overlap, so it is run several times.
      const r = await rig(t, await storage());
      const ids = ['hrb-s01', 'hrb-s02', 'hrb-s03', 'hrb-s04', 'hrb-s05', 'hrb-s06', 'hrb-s07'];
      await r.register(ids, ['pair']);
      for (let round = 0; round < 8; round++) {
        const id = await r.create({ target: { tags: ['pair'] }, canary: 1, waves: [100], soakS: 600 });
        assert.equal((await r.move(id, 'start')).status, 200);
        const canary = (await r.campaign(id)).units.find((u) => u.wave === 0)?.unitId ?? '';
        assert.equal(await r.fleet.ota.campaigns.report(canary, { campaignId: id, seq: 1, state: 'updated' }), true);
        r.clock.at += 600_000;
        assert.equal(await r.fleet.ota.campaigns.runDue(), 1, 'the last wave released');
        const last = ids.filter((u) => u !== canary);
        for (const [i, state] of (['downloading', 'health-check', 'updated'] as const).entries()) {
          const taken = await Promise.all(last.map((u) => r.fleet.ota.campaigns.report(u, { campaignId: id, seq: i + 1, state })));
          assert.ok(taken.every(Boolean), `round ${round}: every ${state} report taken`);
        }
        const done = await r.campaign(id);
        assert.deepEqual([done.state, done.counts.updated], ['completed', ids.length], `round ${round}`);
      }
    });
  });
}

suite('SQLite', async () => '');
suite('PostgreSQL 15', postgresDatabases('ota'));

test('two fleet instances on one PostgreSQL release each wave once and hand each job over once', async (t) => {
  // The fleets close before their database stops (after-hooks run in the order they were added).
  let r: Awaited<ReturnType<typeof rig>> | undefined;
  const teardown: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    await Promise.all(r?.fleets.map((f) => f.close()) ?? []);
    for (const fn of teardown) await fn();
  });
  const { url } = await startPostgres((fn) => teardown.unshift(fn));
  r = await rig(t, url, 2);
  const ids = ['hrb-t01', 'hrb-t02', 'hrb-t03'];
  await r.register(ids, ['twin']);
  const units = await Promise.all(ids.map((id) => r.unit(id, healthy)));
  await waitFor(() => r.fleets.every((f) => ids.every((id) => f.state.get(id)?.liveness.status === 'online')));
  const id = await r.create({ target: { tags: ['twin'] }, canary: 1, waves: [100], soakS: 600 });
  assert.equal((await r.move(id, 'start')).status, 200);
  await waitFor(async () => (await r.campaign(id)).counts.updated === 1, 10_000);
  r.clock.at += 600_000;
  const [a, b] = r.fleets as [(typeof r.fleets)[number], (typeof r.fleets)[number]];
  const fired = await Promise.all([a.ota.campaigns.runDue(), b.ota.campaigns.runDue(), a.ota.campaigns.runDue(), b.ota.campaigns.runDue()]);
  assert.equal(
    fired.reduce((x, y) => x + y, 0),
    1,
    'one wave timer, fired once by four pollers',
  );
  // The two units' last reports race in two fleets: the campaign row lock makes the later one
  // complete it (see 'the last units committing at the same moment').
  await waitFor(async () => (await r.campaign(id)).state === 'completed', 10_000);
  assert.deepEqual(
    units.map((u) => u.jobs.length),
    [1, 1, 1],
  );
  const db = a.loop.ticketStore.db;
  const rows = await sql<{ n: number }>`select count(*) as n from ota_timers where fired_at is not null and kind like 'wave-1@%'`.execute(
    db,
  );
  assert.equal(Number(rows.rows[0]?.n), 1);
});
