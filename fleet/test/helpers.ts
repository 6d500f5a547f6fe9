/**
 * Test vocabulary: a *broker* is a plain Aedes on 127.0.0.1:0 (the fleet does not depend on the
 * gateway package; on the wire they are the same); a *fleet* is startFleet() against it; a
 * *unit* is an MQTT.js client publishing protocol-encoded messages.
 */
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { type Fleet, startFleet } from '../src/fleet.ts';

export async function startBroker(t: TestContext): Promise<{ url: string }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function startTestFleet(t: TestContext, mqttUrl: string): Promise<Fleet & { base: string }> {
  const config = Value.Default(FleetConfig, Value.Convert(FleetConfig, { http: { port: 0 }, mqtt: { url: mqttUrl } })) as FleetConfig;
  const fleet = await startFleet(config, pino({ level: process.env.TEST_LOG ?? 'silent' }));
  t.after(() => fleet.close());
  await fleet.ingest.subscribed;
  return { ...fleet, base: `http://127.0.0.1:${fleet.httpPort}` };
}

export async function unitClient(t: TestContext, url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: id, reconnectPeriod: 0 });
  t.after(() => c.end(true));
  return c;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}
