/**
 * Test vocabulary: a *broker* is a plain Aedes on 127.0.0.1:0 (the fleet does not depend on the
 * gateway package; on the wire they are the same); a *fleet* is startFleet() against it; a
 * *unit* is an MQTT.js client publishing protocol-encoded messages.
 */

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  type CommandName,
  decodeRequest,
  type Encoding,
  encodeUplink,
  filters,
  parseTopic,
  topics,
  type UplinkKind,
  type UplinkPayload,
} from '@shouwang/protocol';
import { Value } from '@sinclair/typebox/value';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { type Fleet, startFleet } from '../src/fleet.ts';

export async function startBroker(t: TestContext): Promise<{ url: string; aedes: Aedes }> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, aedes: broker };
}

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A fleet on a free port with its data in a temporary folder (or `dataDir`, to test a restart). */
export async function startTestFleet(
  t: TestContext,
  mqttUrl: string,
  options: {
    dataDir?: string;
    storageUrl?: string;
    mqtt?: { username: string; password: string };
    auth?: { bootstrapAdminToken: string };
    registry?: { credentialsFile: string };
    /** Where the fleet logs (default: silent, or TEST_LOG's level). */
    log?: Logger;
    /** Time for the alarm loop's deadlines (default: the wall clock). */
    clock?: { now(): number };
    /** This instance's name: its alarm session and timers (two instances need two names). */
    instanceId?: string;
    dashboard?: { timeZone?: string; tiles?: { url?: string; file?: string }; overlayPollMs?: number };
    /** Fleet seconds per real second (`./dev start --time-scale`). */
    timeScale?: number;
    ota?: Partial<FleetConfig['ota']>;
    media?: Record<string, unknown>;
  } = {},
): Promise<Fleet & { base: string }> {
  const dataDir = options.dataDir ?? (await tempDir(t));
  const raw = {
    dataDir,
    http: { port: 0 },
    mqtt: { url: mqttUrl, ...options.mqtt },
    alarms: { instanceId: options.instanceId ?? `test-${Math.random().toString(36).slice(2, 10)}` },
    storage: { url: options.storageUrl ?? '', flushMs: 50 },
    auth: options.auth ?? {},
    registry: options.registry ?? {},
    dashboard: options.dashboard ?? {},
    ota: options.ota ?? {},
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    media: options.media ?? {},
  };
  const config = Value.Default(FleetConfig, Value.Convert(FleetConfig, raw)) as FleetConfig;
  const fleet = await startFleet(
    config,
    options.log ?? pino({ level: process.env.TEST_LOG ?? 'silent' }),
    options.clock ? { clock: options.clock } : {},
  );
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fleet.close();
  };
  t.after(close);
  await fleet.ingest.subscribed;
  await fleet.loop.intake.subscribed;
  await fleet.media.session.subscribed;
  return { ...fleet, close, base: `http://127.0.0.1:${fleet.httpPort}` };
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

/** Publishes one protocol message as a unit does: QoS 1, encoded by the protocol, on the unit's own topic. */
export function send<K extends UplinkKind>(
  unit: MqttClient,
  unitId: string,
  kind: K,
  payload: UplinkPayload<K>,
  options: { encoding?: Encoding; retain?: boolean } = {},
): Promise<unknown> {
  const bytes = Buffer.from(encodeUplink(kind, payload, options.encoding ?? 'json'));
  return unit.publishAsync(topics.uplink(unitId, kind), bytes, { qos: 1, retain: options.retain ?? false });
}

/** What a responder sends back for one request: zero or more raw answers. */
export type Answer = (command: CommandName, id: string) => (Uint8Array | string)[];

/** A unit's agent, as far as commands go: decodes each request with the protocol and answers as told. */
export async function responder(t: TestContext, url: string, unitId: string, answer: Answer): Promise<string[]> {
  const unit = await unitClient(t, url, unitId);
  const seen: string[] = [];
  unit.on('message', (topic, bytes) => {
    const p = parseTopic(topic);
    if (!p.ok || p.value.type !== 'request') return;
    const cmd = p.value.command;
    const req = decodeRequest(cmd, bytes);
    assert.ok(req.ok, 'the client sends requests the unit can decode');
    seen.push(`${cmd}:${req.value.id}`);
    for (const reply of answer(cmd, req.value.id)) unit.publish(topics.response(unitId, cmd), Buffer.from(reply), { qos: 1 });
  });
  await unit.subscribeAsync(filters.unitRequests(unitId), { qos: 1 });
  return seen;
}

/** JSON over the fleet API as a caller with `token` (null: none). */
export function apiClient(base: string) {
  return async (method: string, path: string, token: string | null, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as Record<string, unknown> };
  };
}
