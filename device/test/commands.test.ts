/**
 * Commands: request → response with the correlation id, validated config-set with restart
 * metadata and persistence, stable error codes for bad and expired requests.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type CommandName, decodeResponse, ErrorCode, encodeRequest } from '@shouwang/protocol';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { DeviceConfig } from '../src/config.ts';
import { CommandHandler } from '../src/services/commands.ts';
import { ConfigStore } from '../src/services/config-store.ts';
import { STATE_VERSION } from '../src/services/state-migrations.ts';

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'sw-cmd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = Value.Default(DeviceConfig, { unitId: 'hrb-001', mqtt: { password: 's3cret' } }) as DeviceConfig;
  const changed: string[][] = [];
  const file = join(dir, 'overrides.json');
  const config = new ConfigStore(cfg, file, (keys) => changed.push(keys));
  const restarts: string[] = [];
  const h = new CommandHandler({
    config,
    log: pino({ level: 'silent' }),
    now: () => 5000,
    uptimeS: () => 42.4,
    restart: (w) => restarts.push(w),
    commission: async () => {
      if (commissionFails) throw new Error('camera bus hung');
      return [{ check: 'gps', pass: true, detail: '3d fix', value: 9 }];
    },
  });
  let commissionFails = false;
  const call = <C extends CommandName>(c: C, bytes: Uint8Array) => {
    const r = h.handle(c, bytes);
    assert.ok(r && r.response instanceof Uint8Array);
    r.after?.();
    const d = decodeResponse(c, r.response);
    assert.ok(d.ok, JSON.stringify(d));
    return d.value;
  };
  const callAsync = async <C extends CommandName>(c: C, bytes: Uint8Array) => {
    const r = h.handle(c, bytes);
    assert.ok(r);
    const d = decodeResponse(c, await r.response);
    assert.ok(d.ok, JSON.stringify(d));
    return d.value;
  };
  const failCommission = () => {
    commissionFails = true;
  };
  return { h, call, callAsync, failCommission, changed, restarts, file, config };
}

test('commission answers with the checklist once it has run; a checklist that crashes answers SW_ERR_FAILED', async (t) => {
  const { callAsync, failCommission } = await setup(t);
  assert.deepEqual(await callAsync('commission', encodeRequest('commission', { id: 'c1', args: {} })), {
    id: 'c1',
    status: 'ok',
    data: { ts: 5000, items: [{ check: 'gps', pass: true, detail: '3d fix', value: 9 }] },
  });
  failCommission();
  const r = await callAsync('commission', encodeRequest('commission', { id: 'c2', args: {} }));
  assert.ok(r.status === 'error' && r.error.code === ErrorCode.Failed && /camera bus hung/.test(r.error.message));
});

test('ping answers with uptime and the same correlation id', async (t) => {
  const { call } = await setup(t);
  assert.deepEqual(call('ping', encodeRequest('ping', { id: 'abc-1', args: {} })), {
    id: 'abc-1',
    status: 'ok',
    data: { uptimeS: 42, ts: 5000 },
  });
});

test('config-get hides secrets; config-set validates, persists, applies live keys and flags restart keys', async (t) => {
  const { call, changed, file, config } = await setup(t);
  const got = call('config-get', encodeRequest('config-get', { id: 'g1', args: {} }));
  assert.ok(got.status === 'ok');
  assert.equal(got.data.config['report.intervalS'], 60);
  assert.equal(got.data.config['mqtt.password'], undefined);

  const live = call('config-set', encodeRequest('config-set', { id: 's1', args: { config: { 'report.intervalS': 120 } } }));
  assert.deepEqual(live, { id: 's1', status: 'ok', data: { applied: ['report.intervalS'], restartRequired: false } });
  assert.equal(config.value('report.intervalS'), 120);
  assert.deepEqual(changed, [['report.intervalS']]);

  const rs = call('config-set', encodeRequest('config-set', { id: 's2', args: { config: { 'mqtt.keepaliveS': 300 } } }));
  assert.ok(rs.status === 'ok' && rs.data.restartRequired);
  assert.equal(config.value('mqtt.keepaliveS'), 30, 'restart-only keys keep their running value');
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), {
    stateVersion: STATE_VERSION,
    'report.intervalS': 120,
    'mqtt.keepaliveS': 300,
  });
  assert.deepEqual(ConfigStore.load(file), { report: { intervalS: 120 }, mqtt: { keepaliveS: 300 } });
});

test('bad config values and unknown keys are refused with a code and the field path; nothing applies', async (t) => {
  const { call, config } = await setup(t);
  const bad = call(
    'config-set',
    encodeRequest('config-set', { id: 'b1', args: { config: { 'report.intervalS': 0, 'site.closed': true } } }),
  );
  assert.ok(bad.status === 'error');
  assert.equal(bad.error.code, ErrorCode.Schema);
  assert.equal(bad.error.path, '/config/report.intervalS');
  assert.equal(config.value('site.closed'), false, 'all or nothing');
  const unknown = call('config-get', encodeRequest('config-get', { id: 'b2', args: { keys: ['nope'] } }));
  assert.ok(unknown.status === 'error' && unknown.error.code === ErrorCode.Schema);
  const forbidden = call('config-set', encodeRequest('config-set', { id: 'b3', args: { config: { unitId: 'hrb-002' } } }));
  assert.ok(forbidden.status === 'error' && forbidden.error.code === ErrorCode.Forbidden);
});

test('expired requests are not run; malformed ones answer by id or are counted and dropped', async (t) => {
  const { h, call, restarts } = await setup(t);
  const exp = call('restart', encodeRequest('restart', { id: 'e1', args: {}, expires: 4000 }));
  assert.ok(exp.status === 'error' && exp.error.code === ErrorCode.Expired);
  assert.deepEqual(restarts, []);
  const ok = call('restart', encodeRequest('restart', { id: 'r1', args: {} }));
  assert.ok(ok.status === 'ok');
  assert.deepEqual(restarts, ['restart'], 'restart runs after the answer');
  const bad = call('ping', Buffer.from(JSON.stringify({ id: 'p9', args: { extra: 1 } })));
  assert.ok(bad.status === 'error' && bad.error.code === ErrorCode.Schema);
  assert.equal(h.handle('ping', Buffer.from('\x00garbage')), undefined);
  assert.equal(h.dropped.get('undecodable'), 1);
});
