/**
 * The world a flows test runs in: a broker (plain Aedes on a free port), the real fleet as its own
 * process (flows may not import it: parts meet on the wire), a flows token, and units that raise
 * alarms over MQTT.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type Alarm, encodeUplink, topics } from '@shouwang/protocol';
import { defer, stopper } from '@shouwang/testkit';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

export const ADMIN = 'admin-token-for-flows-palette-0123456789';

export async function startBroker(t: Parameters<typeof defer>[0]): Promise<string> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  defer(t, async () => {
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface TestFleet {
  base: string;
  api(method: string, path: string, token: string | null, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  flowsToken: string;
  token(role: string): Promise<string>;
}

/** The fleet's own entry point, as `./dev start` runs it, on a free port with a temp data dir. */
export async function startFleet(t: Parameters<typeof defer>[0], mqttUrl: string): Promise<TestFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'flows-fleet-'));
  const child = fork(new URL('../../fleet/src/main.ts', import.meta.url), [], {
    env: {
      ...process.env,
      SHOUWANG_FLEET_HTTP_PORT: '0',
      SHOUWANG_FLEET_MQTT_URL: mqttUrl,
      SHOUWANG_FLEET_DATA_DIR: dir,
      SHOUWANG_FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN: ADMIN,
      SHOUWANG_FLEET_ALARMS_INSTANCE_ID: 'flows-test',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  defer(t, stopper(child, dir));
  const ready = await new Promise<{ httpPort: number }>((resolve, reject) => {
    child.on('message', (m: { type?: string; httpPort?: number }) => m.type === 'ready' && resolve({ httpPort: Number(m.httpPort) }));
    child.once('exit', (code) => reject(new Error(`fleet exited with ${code} before it was ready`)));
  });
  const base = `http://127.0.0.1:${ready.httpPort}`;
  const api: TestFleet['api'] = async (method, path, token, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
  return { base, api, token, flowsToken: await token('flows') };
}

/** A unit raises an intrusion in Daoli; resolves with its ticket's id once the fleet opened it. */
export async function openTicket(t: TestContext, mqttUrl: string, fleet: TestFleet, unitId: string): Promise<string> {
  const unit = await mqtt.connectAsync(mqttUrl, { clientId: unitId, reconnectPeriod: 0 });
  defer(t, () => unit.endAsync(true));
  const alarm: Alarm = {
    seq: 1,
    ts: Date.now(),
    id: `${unitId}-motion-1`,
    kind: 'motion',
    severity: 'major',
    state: 'raised',
    lat: 45.75,
    lon: 126.55,
  };
  await unit.publishAsync(topics.uplink(unitId, 'alarm'), Buffer.from(encodeUplink('alarm', alarm)), { qos: 1 });
  return waitFor(`a ticket for ${unitId}`, async () => {
    const list = (await fleet.api('GET', '/api/tickets', ADMIN)).body.tickets as { id: string; unitId: string }[];
    return list.find((x) => x.unitId === unitId)?.id;
  });
}

/** Polls until `probe` gives a value; fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A real device agent on the hardware simulator, connected to `mqttUrl` (the plain broker takes any password). */
export async function startUnit(t: TestContext, mqttUrl: string, unitId: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flows-unit-'));
  const child = fork(new URL('../../device/src/main.ts', import.meta.url), [], {
    env: {
      ...process.env,
      SHOUWANG_DEVICE_UNIT_ID: unitId,
      SHOUWANG_DEVICE_MODE: 'sim',
      SHOUWANG_DEVICE_MQTT_URL: mqttUrl,
      SHOUWANG_DEVICE_MQTT_PASSWORD: 'any-password-the-test-broker-takes',
      SHOUWANG_DEVICE_DATA_DIR: dir,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  defer(t, stopper(child, dir));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`unit ${unitId} exited with ${code} before it was ready`)));
  });
}

/**
 * Node-RED as `./dev start` runs it (flows/src/server.ts: the shipped default flows on a fresh data
 * dir), on a free port; `env` points the flows at the fleet, the broker and the endpoints.
 */
export async function startNodeRed(t: Parameters<typeof defer>[0], env: NodeJS.ProcessEnv): Promise<{ httpPort: number; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'flows-nodered-'));
  const child = fork(new URL('../src/server.ts', import.meta.url), [], {
    env: { ...process.env, LOG_LEVEL: 'silent', SHOUWANG_FLOWS_DATA_DIR: dir, SHOUWANG_FLOWS_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  defer(t, stopper(child, dir));
  return new Promise((resolve, reject) => {
    child.on(
      'message',
      (m: { type?: string; httpPort?: number }) =>
        m.type === 'ready' && resolve({ httpPort: Number(m.httpPort), pid: child.pid as number }),
    );
    child.once('exit', (code) => reject(new Error(`Node-RED exited with ${code} before it was ready`)));
  });
}
