/**
 * `sim.linkKbps`: a simulated unit's uplink at a given rate in place of its link profile's (a thin
 * 4G cell at 512 kbit/s instead of the LTE profile's 2 MB/s), from config through the board to the
 * shaped path the MQTT client dials.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { ConfigError, createLogger, loadConfig } from '@shouwang/runtime';
import { DeviceConfig } from '../src/config.ts';
import { openDeviceBoard } from '../src/services/board.ts';

async function config(t: TestContext, env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'sw-link-rate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'device.json');
  await writeFile(file, JSON.stringify({ unitId: 'hrb-190', mode: 'sim', dataDir: dir }));
  return loadConfig(DeviceConfig, { prefix: 'SHOUWANG_DEVICE', env: { SHOUWANG_DEVICE_CONFIG: file, ...env } });
}

test('a unit with sim.linkKbps sends no faster than that rate over its simulated link', async (t) => {
  let received = 0;
  const sink = createServer((s) =>
    s.on('data', (d: Buffer) => {
      received += d.length;
    }),
  );
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  t.after(() => sink.close());
  const cfg = await config(t, {
    SHOUWANG_DEVICE_MQTT_URL: `mqtt://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    SHOUWANG_DEVICE_SIM_LINK_KBPS: '128',
  });
  assert.equal(cfg.sim.linkKbps, 128);
  const board = await openDeviceBoard(cfg, createLogger('test', { level: process.env.TEST_LOG ?? 'silent' }));
  t.after(() => board.close());

  // 24 kB at 128 kbit/s (16 kB/s) takes 1.5 s; the LTE profile's 2 MB/s would carry it in ~12 ms.
  const bytes = 24_000;
  const url = new URL(board.device.mqttUrl);
  const s = connect(Number(url.port), url.hostname);
  t.after(() => s.destroy());
  await once(s, 'connect');
  const start = performance.now();
  s.write(Buffer.alloc(bytes, 0x55));
  const deadline = start + 10_000;
  while (received < bytes) {
    assert.ok(performance.now() < deadline, `the sink got ${received} of ${bytes} B within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = performance.now() - start;
  // A floor, not a ceiling: the shaper may be late under load, never early.
  assert.ok(elapsedMs >= 1400, `${bytes} B arrived in ${elapsedMs.toFixed(0)} ms, faster than 128 kbit/s allows`);
});

test('a link rate that is not a number of kbit/s from 1 to 1,000,000 is refused at load, naming the key', async (t) => {
  for (const bad of ['0', '-512', '2000000', 'fast']) {
    await assert.rejects(config(t, { SHOUWANG_DEVICE_SIM_LINK_KBPS: bad }), (err: unknown) => {
      return err instanceof ConfigError && err.problems.some((p) => p.startsWith('/sim/linkKbps'));
    });
  }
});
