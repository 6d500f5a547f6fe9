/**
 * Commands and commissioning through the fleet API: a technician's token is enough (no MQTT
 * secret), each command has its role, bad arguments are refused before anything is sent, and a
 * commissioning run is recorded with who asked — a failed item is a recorded failure, a unit that
 * does not answer records nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommissionItem, encodeResponse } from '@shouwang/protocol';
import type { CommissioningRecord } from '../src/services/unit-commands.ts';
import { withJudged } from '../src/services/unit-commands.ts';
import { apiClient, responder, send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-tests-only';
type Items = CommissionItem[];

const checklist = (pass: boolean): Items => [
  { check: 'gps', pass: true, detail: '3d fix, 11 satellites, HDOP 0.8', value: 11 },
  { check: 'signal', pass: true, detail: 'lte -79 dBm (4/5 bars)', value: -79 },
  { check: 'charge', pass, detail: pass ? 'solar 12.5 W, wind 1.0 W' : 'solar monitor does not answer on I²C' },
];
/** Deployed at night in calm air: the charge cannot be judged, which is no failure. */
const atNight: Items = [
  ...checklist(true).slice(0, 2),
  {
    check: 'charge',
    pass: false,
    pending: true,
    detail: 'solar 0 W, wind 0 W: sun 58° below the horizon and the turbine still, cannot be judged now',
  },
];

test('technicians commission and ping through the API; runs are recorded newest first; roles hold', async (t) => {
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dataDir });
  const api = apiClient(fleet.base);
  let run = 0;
  const seen = await responder(t, broker.url, 'hrb-001', (cmd, id) => {
    if (cmd === 'commission')
      return [
        encodeResponse('commission', {
          id,
          status: 'ok',
          data: { ts: 1_000 + run, items: [checklist(false), checklist(true)][run++] ?? atNight },
        }),
      ];
    if (cmd === 'ping') return [encodeResponse('ping', { id, status: 'ok', data: { uptimeS: 5, ts: 1 } })];
    return [encodeResponse(cmd, { id, status: 'error', error: { code: 'SW_ERR_FAILED', message: 'not now' } })];
  });
  const unit = await unitClient(t, broker.url, 'hrb-001-status');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: Date.now() });
  await waitFor(() => fleet.state.get('hrb-001') !== undefined);
  const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
  const [tech, commander, maintainer] = [await token('technician'), await token('commander'), await token('maintainer')];

  const first = await api('POST', '/api/units/hrb-001/commands/commission', tech, {});
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual([first.body.unitId, first.body.passed, (first.body.items as Items).length], ['hrb-001', false, 3]);
  const second = await api('POST', '/api/units/hrb-001/commands/commission', tech, {});
  assert.equal(second.body.passed, true);
  const history = await api('GET', '/api/units/hrb-001/commissioning', commander);
  const runs = history.body.runs as { id: string; passed: boolean; requestedBy: string; requestedAt: number; items: Items }[];
  assert.deepEqual(
    runs.map((r) => [r.id, r.passed]),
    [
      [second.body.id, true],
      [first.body.id, false],
    ],
  );
  assert.deepEqual(runs[1]?.items[2], checklist(false)[2]);
  assert.notEqual(runs[0]?.requestedBy, 'loopback', 'who asked is the token, not the address');
  assert.deepEqual(fleet.state.get('hrb-001')?.commissioning, {
    at: runs[0]?.requestedAt,
    passed: true,
    failed: [],
    pending: [],
  });
  // At night: nothing failed, and the card says what is left to judge in daylight.
  const night = await api('POST', '/api/units/hrb-001/commands/commission', tech, {});
  assert.equal(night.body.passed, true, JSON.stringify(night.body));
  assert.deepEqual(fleet.state.get('hrb-001')?.commissioning, {
    at: night.body.requestedAt,
    passed: true,
    failed: [],
    pending: ['charge'],
  });

  assert.deepEqual((await api('POST', '/api/units/hrb-001/commands/ping', tech, {})).body, {
    id: 'hrb-001',
    command: 'ping',
    data: { uptimeS: 5, ts: 1 },
  });
  // Watching is not commanding; changing a unit's behaviour needs a maintainer.
  assert.equal((await api('POST', '/api/units/hrb-001/commands/ping', commander, {})).status, 403);
  assert.equal((await api('POST', '/api/units/hrb-001/commands/reboot', tech, {})).status, 403);
  const reboot = await api('POST', '/api/units/hrb-001/commands/reboot', maintainer, {});
  assert.deepEqual([reboot.status, (reboot.body.error as { code: string }).code], [502, 'SW_ERR_FAILED']);
  assert.equal(seen.filter((s) => s.startsWith('reboot')).length, 1, 'only the maintainer’s reboot reached the unit');

  // The card's commissioning line survives a fleet restart.
  await fleet.close();
  const again = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dataDir });
  assert.equal(again.state.get('hrb-001')?.commissioning?.passed, true);
});

test('a run left pending at night takes the verdict the unit judged at first light, once; it survives a fleet restart', async (t) => {
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dataDir });
  const api = apiClient(fleet.base);
  await responder(t, broker.url, 'hrb-003', (_cmd, id) => [
    encodeResponse('commission', { id, status: 'ok', data: { ts: 1_000, items: atNight } }),
  ]);
  const unit = await unitClient(t, broker.url, 'hrb-003-status');
  await send(unit, 'hrb-003', 'presence', { state: 'online', ts: Date.now() });
  await waitFor(() => fleet.state.get('hrb-003') !== undefined);
  const night = await api('POST', '/api/units/hrb-003/commands/commission', ADMIN, {});
  assert.equal(night.status, 200, JSON.stringify(night.body));
  const dawn = Date.UTC(2026, 11, 21, 0, 38);
  const daylight = (pass: boolean): CommissionItem => ({
    check: 'charge',
    pass,
    detail: pass
      ? 'solar 4.1 W, wind 0 W'
      : 'solar 0 W, wind 0 W: no harvest with the sun 10° up — check the panel (snow, shade) and the turbine leads',
    value: pass ? 4.1 : 0,
    judgedAt: dawn,
  });
  const judged = (pass: boolean) =>
    send(unit, 'hrb-003', 'event', {
      seq: 7,
      ts: dawn,
      kind: 'commission',
      to: pass ? 'pass' : 'fail',
      reason: 'daylight re-check',
      item: daylight(pass),
    });
  await judged(true);
  await waitFor(() => (fleet.state.get('hrb-003')?.commissioning?.judged?.length ?? 0) > 0);
  assert.deepEqual(fleet.state.get('hrb-003')?.commissioning, {
    at: night.body.requestedAt,
    passed: true,
    failed: [],
    pending: [],
    judged: [{ check: 'charge', pass: true, at: dawn }],
  });
  const runs = async () =>
    (await api('GET', '/api/units/hrb-003/commissioning', ADMIN)).body.runs as { id: string; passed: boolean; items: Items }[];
  const [run] = await runs();
  assert.deepEqual([run?.id, run?.passed, run?.items[2]], [night.body.id, true, daylight(true)], 'the run itself, not a new one');
  assert.equal((await runs()).length, 1);

  // The same report again, or a later contrary one, finds nothing pending: the first verdict stands.
  await judged(false);
  const marker = Date.now() + 1;
  await send(unit, 'hrb-003', 'presence', { state: 'online', ts: marker });
  await waitFor(() => fleet.state.get('hrb-003')?.presence?.ts === marker);
  assert.deepEqual((await runs())[0]?.items[2], daylight(true));
  assert.equal(withJudged({ ...(run as CommissioningRecord) }, daylight(false)), undefined, 'nothing pending: no second verdict');

  await fleet.close();
  const again = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN }, dataDir });
  assert.deepEqual(again.state.get('hrb-003')?.commissioning?.judged, [{ check: 'charge', pass: true, at: dawn }]);
});

test('a daylight re-check that finds no harvest fails the run with its reason', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  await responder(t, broker.url, 'hrb-004', (_cmd, id) => [
    encodeResponse('commission', { id, status: 'ok', data: { ts: 1_000, items: atNight } }),
  ]);
  const unit = await unitClient(t, broker.url, 'hrb-004-status');
  await send(unit, 'hrb-004', 'presence', { state: 'online', ts: Date.now() });
  await waitFor(() => fleet.state.get('hrb-004') !== undefined);
  assert.equal((await api('POST', '/api/units/hrb-004/commands/commission', ADMIN, {})).status, 200);
  const item: CommissionItem = {
    check: 'charge',
    pass: false,
    detail: 'solar 0 W, wind 0 W: no harvest with the sun 11° up — check the panel (snow, shade) and the turbine leads',
    value: 0,
    judgedAt: 5_000,
  };
  await send(unit, 'hrb-004', 'event', { seq: 3, ts: 5_000, kind: 'commission', to: 'fail', reason: 'daylight re-check failed', item });
  await waitFor(() => fleet.state.get('hrb-004')?.commissioning?.passed === false);
  assert.deepEqual(fleet.state.get('hrb-004')?.commissioning?.failed, ['charge']);
  const runs = (await api('GET', '/api/units/hrb-004/commissioning', ADMIN)).body.runs as { passed: boolean; items: Items }[];
  assert.deepEqual([runs[0]?.passed, runs[0]?.items[2]], [false, item]);
});

test('bad arguments, unknown units and silent units: clear errors, nothing sent or recorded', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const unit = await unitClient(t, broker.url, 'hrb-002');
  await send(unit, 'hrb-002', 'presence', { state: 'online', ts: Date.now() });
  await waitFor(() => fleet.state.get('hrb-002') !== undefined);

  const bad = await api('POST', '/api/units/hrb-002/commands/config-set', ADMIN, {
    args: { config: { 'report.intervalS': { every: 1 } } },
  });
  assert.equal(bad.status, 400);
  assert.match((bad.body.error as { path: string }).path, /^body\/args\/config/);
  assert.equal((await api('POST', '/api/units/hrb-999/commands/ping', ADMIN, {})).status, 404);
  assert.equal((await api('POST', '/api/units/hrb-002/commands/warp', ADMIN, {})).status, 404);

  // hrb-002 is online but its agent never answers.
  const silent = await api('POST', '/api/units/hrb-002/commands/commission', ADMIN, { timeoutS: 1 });
  assert.deepEqual([silent.status, (silent.body.error as { code: string }).code], [504, 'UNIT_TIMEOUT']);
  assert.deepEqual((await api('GET', '/api/units/hrb-002/commissioning', ADMIN)).body.runs, []);
});
