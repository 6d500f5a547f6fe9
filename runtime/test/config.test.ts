import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, envName, loadConfig } from '@shouwang/runtime';
import { Type } from '@sinclair/typebox';

const Schema = Type.Object({
  unitId: Type.String({ default: 'hrb-001' }),
  mqtt: Type.Object(
    {
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883 }),
      tls: Type.Boolean({ default: false }),
    },
    { default: {} },
  ),
  tags: Type.Array(Type.String(), { default: [] }),
});

test('defaults alone make a valid config', () => {
  assert.deepEqual(loadConfig(Schema, { prefix: 'T', env: {} }), { unitId: 'hrb-001', mqtt: { port: 1883, tls: false }, tags: [] });
});

test('env names derive from the schema path', () => {
  assert.equal(envName('SHOUWANG_DEVICE', ['unitId']), 'SHOUWANG_DEVICE_UNIT_ID');
  assert.equal(envName('SHOUWANG_GATEWAY', ['mqtt', 'port']), 'SHOUWANG_GATEWAY_MQTT_PORT');
});

test('file, then env, then overrides; strings coerced at the edge; result frozen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'c.json');
  await writeFile(file, JSON.stringify({ unitId: 'from-file', mqtt: { port: 1 } }));
  const cfg = loadConfig(Schema, {
    prefix: 'T',
    env: { T_CONFIG: file, T_MQTT_PORT: '8883', T_MQTT_TLS: 'yes', T_TAGS: '["a","b"]' },
    overrides: { unitId: 'from-flag' },
  });
  assert.deepEqual(cfg, { unitId: 'from-flag', mqtt: { port: 8883, tls: true }, tags: ['a', 'b'] });
  assert.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.mqtt));
});

test('every problem is reported at once', () => {
  assert.throws(
    () => loadConfig(Schema, { prefix: 'T', env: { T_MQTT_PORT: '70000', T_MQTT_TLS: 'maybe' } }),
    (err: unknown) => err instanceof ConfigError && err.problems.length >= 2 && err.problems.some((p) => p.startsWith('/mqtt/port')),
  );
});

test('an unreadable config file is a ConfigError naming the file', () => {
  assert.throws(() => loadConfig(Schema, { prefix: 'T', env: { T_CONFIG: '/nonexistent/x.json' } }), /nonexistent\/x.json/);
});
