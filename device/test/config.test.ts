/**
 * The config a technician writes: ports overridden per unit over the board definition, unknown
 * keys refused with their path, and config-set saying truthfully what is live.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ConfigError, loadConfig } from '@shouwang/runtime';
import { DeviceConfig } from '../src/config.ts';
import { boardWithPorts } from '../src/services/board.ts';
import { ConfigStore } from '../src/services/config-store.ts';

async function fileConfig(t: TestContext, json: unknown, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sw-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'device.json');
  await writeFile(file, JSON.stringify(json));
  return loadConfig(DeviceConfig, { prefix: 'SHOUWANG_DEVICE', env: { SHOUWANG_DEVICE_CONFIG: file, ...env } });
}

test('each port is the board definition’s unless the config names its own path or baud rate', async (t) => {
  // A Quectel module's own NMEA port, and a u-blox at its 38400 Bd default on the Pi's UART.
  const cfg = await fileConfig(t, { unitId: 'hrb-101', gps: { path: '/dev/ttyUSB1' }, modem: { baudRate: 921_600 } });
  assert.deepEqual(boardWithPorts(cfg).gps, { path: '/dev/ttyUSB1', baudRate: 9600 });
  assert.deepEqual(boardWithPorts(cfg).modem, { path: '/dev/ttyUSB2', baudRate: 921_600 });
  const ublox = await fileConfig(t, { unitId: 'hrb-102' }, { SHOUWANG_DEVICE_GPS_BAUD_RATE: '38400' });
  assert.deepEqual(boardWithPorts(ublox).gps, { path: '/dev/ttyAMA0', baudRate: 38_400 });
});

test('a config with an unknown or misspelt key is refused, naming its path', async (t) => {
  await assert.rejects(
    fileConfig(t, { unitId: 'hrb-103', gps: { paht: '/dev/ttyUSB1' }, modme: {} }),
    (err: unknown) =>
      err instanceof ConfigError && err.problems.some((p) => p.startsWith('/gps/paht')) && err.problems.some((p) => p.startsWith('/modme')),
  );
});

test('config-set: a live key is applied at once; a key read only at start says a restart is required', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cfg = await fileConfig(t, { unitId: 'hrb-104' });
  const changed: string[][] = [];
  const store = new ConfigStore(cfg, join(dir, 'overrides.json'), (keys) => changed.push(keys));
  assert.deepEqual(store.set({ 'site.lat': 45.8, 'site.lon': 126.6 }), {
    ok: true,
    applied: ['site.lat', 'site.lon'],
    restartRequired: false,
  });
  assert.equal(store.value('site.lat'), 45.8);
  assert.deepEqual(changed, [['site.lat', 'site.lon']]);
  for (const key of ['report.telemetryBatch', 'outbox.quotaBytes', 'schedule.snapshots', 'schedule.timezone', 'gps.baudRate']) {
    const value = {
      'report.telemetryBatch': 10,
      'outbox.quotaBytes': 1_000_000,
      'schedule.snapshots': '0 0 * * * *',
      'schedule.timezone': 'UTC',
      'gps.baudRate': 38_400,
    }[key] as string | number;
    const r = store.set({ [key]: value });
    assert.ok(r.ok && r.restartRequired, `${key} takes effect only at the next start`);
    assert.notEqual(store.value(key), value, `${key} is not pretended live`);
  }
  assert.equal(changed.length, 1);
});
