/**
 * One storage suite, run against SQLite (node:sqlite) and a real PostgreSQL started here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { type Kysely, sql } from 'kysely';
import { AuditStore } from '../src/storage/audit-store.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { Database, NewUnitRow, PowerRow, UnitStateRow } from '../src/storage/schema.ts';
import { FleetStore } from '../src/storage/store.ts';

const T0 = 1_763_856_000_000;

const unit = (id: string, extra: Partial<NewUnitRow> = {}): NewUnitRow => ({
  id,
  board: 'pi4',
  tags: JSON.stringify(['winter']),
  site_name: null,
  site_lat: null,
  site_lon: null,
  grid_cell: null,
  created_at: T0,
  claim_code_hash: null,
  claim_expires_at: null,
  claimed_at: null,
  secret_hash: null,
  revoked_at: null,
  ...extra,
});

const reading = (unitId: string, ts: number, soc: number): PowerRow => ({
  unit_id: unitId,
  ts,
  soc,
  battery_v: 12.9,
  solar_w: 10.5,
  wind_w: 2,
  load_w: 6,
  state: 'full',
});

type Cleanup = (fn: () => Promise<unknown>) => void;

function storageSuite(name: string, url: (cleanup: Cleanup) => Promise<string>, server = false): void {
  describe(`storage on ${name}`, () => {
    let store: FleetStore;
    let db: Kysely<Database>;
    let dsn: string;
    let dataDir: string;
    const teardown: (() => Promise<unknown>)[] = [];
    const lost: Error[] = [];
    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'fleet-store-'));
      dsn = await url((fn) => teardown.unshift(fn));
      db = (await openDatabase(dsn, dataDir, (err) => lost.push(err))).db;
      store = new FleetStore(db);
    });
    after(async () => {
      await store.close();
      for (const fn of teardown) await fn();
      await rm(dataDir, { recursive: true, force: true });
    });

    test('migrations are idempotent: opening an up-to-date database changes nothing', async () => {
      const again = await openDatabase(dsn, dataDir, () => {});
      await again.db.destroy();
    });

    test('registry: insert, read, list in id order, update; duplicate ids refused', async () => {
      await store.insertUnit(unit('hrb-b'));
      await store.insertUnit(unit('hrb-a', { site_name: 'Daoli bridge', site_lat: 45.77, site_lon: 126.62, grid_cell: 'DL-0417' }));
      await assert.rejects(store.insertUnit(unit('hrb-a')));
      assert.deepEqual(
        (await store.listUnits()).map((u) => u.id),
        ['hrb-a', 'hrb-b'],
      );
      const a = await store.getUnit('hrb-a');
      assert.equal(a?.site_lat, 45.77);
      assert.equal(a?.created_at, T0, '64-bit times come back as numbers');
      assert.deepEqual(JSON.parse(a?.tags ?? ''), ['winter']);
      assert.equal(await store.updateUnit('hrb-b', { grid_cell: 'NG-0002', tags: '["bridge"]' }), true);
      assert.equal((await store.getUnit('hrb-b'))?.grid_cell, 'NG-0002');
      assert.equal(await store.updateUnit('hrb-none', { grid_cell: 'x' }), false);
      assert.equal(await store.getUnit('hrb-none'), undefined);
    });

    test('a claim code works once, even when two technicians race with it', async () => {
      await store.insertUnit(unit('hrb-c', { claim_code_hash: 'h-c', claim_expires_at: T0 + 1000 }));
      assert.equal((await store.findUnitByClaimHash('h-c'))?.id, 'hrb-c');
      const results = await Promise.all([
        store.claimUnit('hrb-c', 'h-c', { claimed_at: T0, secret_hash: 'first' }),
        store.claimUnit('hrb-c', 'h-c', { claimed_at: T0, secret_hash: 'second' }),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
      const c = await store.getUnit('hrb-c');
      assert.equal(c?.claim_code_hash, null);
      assert.equal(await store.findUnitByClaimHash('h-c'), undefined);
    });

    test('live state is upserted in batches and read back after a restart', async () => {
      const row = (id: string, soc: number): UnitStateRow => ({
        id,
        presence: JSON.stringify({ state: 'online', ts: T0 }),
        power: JSON.stringify({ soc }),
        location: null,
        link: null,
        running: null,
        last_seen: T0,
        deployment_lat: 45.7,
        deployment_lon: 126.6,
        updated_at: T0,
      });
      await store.saveStates(Array.from({ length: 1200 }, (_, i) => row(`s-${String(i).padStart(4, '0')}`, 50)));
      await store.saveStates([row('s-0007', 49)]);
      const reopened = new FleetStore((await openDatabase(dsn, dataDir, () => {})).db);
      const rows = await reopened.loadStates();
      await reopened.close();
      assert.equal(rows.length, 1200);
      assert.equal(JSON.parse(rows[7]?.power ?? '').soc, 49);
      assert.equal(rows[7]?.deployment_lon, 126.6);
    });

    test('history is kept at event time: a back-filled burst slots in and a re-sent reading is stored once', async () => {
      await store.appendPower([reading('hrb-h', T0 + 5000, 60)]);
      await store.appendPower([reading('hrb-h', T0 + 1000, 64), reading('hrb-h', T0 + 3000, 62), reading('hrb-h', T0 + 5000, 99)]);
      await store.appendPower([reading('hrb-other', T0 + 2000, 10)]);
      const rows = await store.powerHistory('hrb-h', T0, T0 + 10_000, 100);
      assert.deepEqual(
        rows.map((r) => [r.ts - T0, r.soc]),
        [
          [1000, 64],
          [3000, 62],
          [5000, 60],
        ],
      );
      assert.equal((await store.powerHistory('hrb-h', T0 + 2000, T0 + 4000, 100)).length, 1);
      assert.equal((await store.powerHistory('hrb-h', T0, T0 + 10_000, 2)).length, 2);
    });

    test('a track is kept at event time, once per fix; the newest within the limit come oldest first', async () => {
      const fix = (ts: number, lat: number) => ({ unit_id: 'hrb-t', ts: T0 + ts, lat, lon: 126.6 });
      await store.appendLocations([fix(3000, 45.3), fix(1000, 45.1)]);
      await store.appendLocations([fix(2000, 45.2), fix(3000, 45.9), { ...fix(1500, 40), unit_id: 'hrb-other' }]);
      assert.deepEqual(
        (await store.locationHistory('hrb-t', T0, T0 + 10_000, 100)).map((r) => [r.ts - T0, r.lat]),
        [
          [1000, 45.1],
          [2000, 45.2],
          [3000, 45.3],
        ],
      );
      assert.deepEqual(
        (await store.locationHistory('hrb-t', T0, T0 + 10_000, 2)).map((r) => r.ts - T0),
        [2000, 3000],
      );
    });

    test('API tokens: found by hash until revoked', async () => {
      await store.insertToken({ id: 'tok-1', token_hash: 'th-1', role: 'commander', name: 'duty desk', created_at: T0, revoked_at: null });
      assert.equal((await store.findToken('th-1'))?.role, 'commander');
      assert.equal(await store.revokeToken('tok-1', T0 + 1), true);
      assert.equal(await store.findToken('th-1'), undefined);
      assert.equal(await store.revokeToken('tok-1', T0 + 2), false);
      assert.equal((await store.listTokens()).length, 1);
    });

    test('commissioning runs: newest first per unit, items kept as the unit sent them', async () => {
      const items = JSON.stringify([{ check: 'gps', pass: true, detail: '3d fix', value: 9 }]);
      for (const [id, unit, at, passed] of [
        ['c-1', 'hrb-010', T0, 0],
        ['c-2', 'hrb-010', T0 + 60_000, 1],
        ['c-3', 'hrb-011', T0 + 30_000, 1],
      ] as const) {
        await store.insertCommissioning({ id, unit_id: unit, ts: at - 5, requested_at: at, requested_by: 'tok-7', passed, items });
      }
      const runs = await store.commissioningHistory('hrb-010', 10);
      assert.deepEqual(
        runs.map((r) => [r.id, r.passed, r.requested_at]),
        [
          ['c-2', 1, T0 + 60_000],
          ['c-1', 0, T0],
        ],
      );
      assert.equal(runs[0]?.items, items);
      assert.equal((await store.commissioningHistory('hrb-010', 1)).length, 1);
    });

    test("audit log: a unit's entries newest first, limited; other units and unit-less entries apart", async () => {
      const audit = new AuditStore(db);
      const entry = (id: string, unitId: string | null, at: number, action: string, result = 'ok') => ({
        id,
        unit_id: unitId,
        ticket_id: null,
        campaign_id: null,
        release_version: null,
        at,
        actor_id: 'tok-1',
        actor_name: 'Technician Wang',
        role: 'technician',
        action,
        status: result === 'ok' ? 200 : 403,
        result,
        message: result === 'ok' ? null : 'role technician may not manage-units',
      });
      await audit.append(entry('a-1', 'hrb-020', T0, 'ping'));
      await audit.append(entry('a-2', 'hrb-020', T0 + 1000, 'reboot', 'FORBIDDEN'));
      await audit.append(entry('a-3', 'hrb-021', T0 + 2000, 'ping'));
      await audit.append(entry('a-4', null, T0 + 3000, 'issue-token'));
      const rows = await audit.forUnit('hrb-020', 10);
      assert.deepEqual(
        rows.map((r) => [r.id, r.action, r.status, r.result, r.at]),
        [
          ['a-2', 'reboot', 403, 'FORBIDDEN', T0 + 1000],
          ['a-1', 'ping', 200, 'ok', T0],
        ],
      );
      assert.deepEqual({ ...rows[0] }, entry('a-2', 'hrb-020', T0 + 1000, 'reboot', 'FORBIDDEN'));
      assert.equal((await audit.forUnit('hrb-020', 1)).length, 1);
    });

    if (server)
      test('a connection the server ends while idle is reported and replaced, not a crash', async () => {
        // Several idle connections in the pool; then the server ends every one but the asking one.
        await Promise.all(Array.from({ length: 4 }, () => store.listUnits()));
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database()`.execute(
          db,
        );
        for (let i = 0; i < 50 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        assert.match(lost[0]?.message ?? '', /terminating connection/);
        assert.ok((await store.listUnits()).length > 0);
      });
  });
}

storageSuite('SQLite (node:sqlite)', async () => '');
storageSuite('PostgreSQL 15', async (cleanup) => (await startPostgres(cleanup)).url, true);
