/**
 * The rig the dashboard's browser benches share: a bare Aedes broker on a free port, a fleet on
 * its defaults in a temporary data dir, one MQTT client publishing as the units, and Debian's
 * Chromium; everything closed and removed when the run ends, however it ends.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { FleetConfig } from '../src/config.ts';
import { type Fleet, startFleet } from '../src/fleet.ts';
import { launchChromium } from '../test/dashboard-browser.ts';

export const BENCH_TOKEN = 'bench-admin-token';

export async function withBenchFleet<T>(
  name: string,
  run: (rig: { fleet: Fleet; units: MqttClient; browser: Browser; base: string }) => Promise<T>,
): Promise<T> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), `${name}-bench-`));
  const config = Value.Default(
    FleetConfig,
    Value.Convert(FleetConfig, { dataDir, http: { port: 0 }, mqtt: { url }, auth: { bootstrapAdminToken: BENCH_TOKEN } }),
  ) as FleetConfig;
  const fleet = await startFleet(config, pino({ level: 'silent' }));
  const units = await mqtt.connectAsync(url, { clientId: 'bench-units', reconnectPeriod: 0 });
  const browser = await launchChromium();
  try {
    return await run({ fleet, units, browser, base: `http://127.0.0.1:${fleet.httpPort}` });
  } finally {
    await browser.close();
    units.end(true);
    await fleet.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dataDir, { recursive: true, force: true });
  }
}
