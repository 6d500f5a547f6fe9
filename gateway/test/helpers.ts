/**
 * Test vocabulary: a *gateway* is a real createGateway() on 127.0.0.1 with ephemeral ports and a
 * credentials file in a temp dir; a *unit* is an MQTT.js client logged in as a unit
 * (username = client id = unit id); a *service* is one logged in from the file's services.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Power } from '@shouwang/protocol';
import { hashSecret } from '@shouwang/runtime/secrets';
import { defer, waitUntil } from '@shouwang/testkit';
import { Value } from '@sinclair/typebox/value';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import { GatewayConfig } from '../src/config.ts';
import { createGateway, type Gateway } from '../src/index.ts';

export const FAST_COST = { N: 1024, r: 8, p: 1 };

export interface Creds {
  units: Record<string, string>;
  services: Record<string, string>;
}

/** Like a real issuer, rewriting the file keeps the hash of every credential that did not change. */
const hashes = new Map<string, string>();
async function hashOf(name: string, secret: string): Promise<string> {
  const key = `${name}\0${secret}`;
  let h = hashes.get(key);
  if (!h) {
    h = await hashSecret(secret, FAST_COST);
    hashes.set(key, h);
  }
  return h;
}

export async function writeCredentials(file: string, creds: Creds): Promise<void> {
  const body = {
    units: Object.fromEntries(await Promise.all(Object.entries(creds.units).map(async ([id, pw]) => [id, await hashOf(id, pw)]))),
    services: Object.fromEntries(
      await Promise.all(Object.entries(creds.services).map(async ([n, pw]) => [n, { hash: await hashOf(n, pw), role: 'service' }])),
    ),
  };
  await writeFile(`${file}.tmp`, JSON.stringify(body));
  await rename(`${file}.tmp`, file);
}

export interface TestGateway {
  gateway: Gateway;
  mqttPort: number;
  httpPort: number;
  tlsPort: number | undefined;
  wsPort: number | undefined;
  url: string;
  dir: string;
  credentialsFile: string;
}

export async function startGateway(
  t: TestContext,
  creds: Creds,
  opts: {
    config?: {
      auth?: Record<string, unknown>;
      broker?: Record<string, unknown>;
      influx?: Record<string, unknown>;
      tls?: Record<string, unknown>;
      ws?: Record<string, unknown>;
      media?: Record<string, unknown>;
      dataDir?: string;
    };
    /** Where the gateway logs (silent unless TEST_LOG is set). */
    log?: Logger;
  } = {},
): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-'));
  const credentialsFile = join(dir, 'credentials.json');
  await writeCredentials(credentialsFile, creds);
  const config = Value.Default(
    GatewayConfig,
    Value.Convert(GatewayConfig, {
      dataDir: opts.config?.dataDir ?? dir,
      mqtt: { port: 0 },
      http: { port: 0 },
      auth: { credentialsFile, ...opts.config?.auth },
      broker: { ...opts.config?.broker },
      influx: { ...opts.config?.influx },
      tls: { port: 0, ...opts.config?.tls },
      ws: { port: 0, ...opts.config?.ws },
      media: { ...opts.config?.media },
    }),
  ) as GatewayConfig;
  const gateway = createGateway({ config, log: opts.log ?? pino({ level: process.env.TEST_LOG ?? 'silent' }) });
  const { mqttPort, httpPort, tlsPort, wsPort } = await gateway.listen();
  defer(t, async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { gateway, mqttPort, httpPort, tlsPort, wsPort, url: `mqtt://127.0.0.1:${mqttPort}`, dir, credentialsFile };
}

/** Connects and resolves once CONNACK arrives; rejects with the broker's refusal. */
export function connect(t: TestContext, url: string, username: string, password: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { username, password, clientId: username, reconnectPeriod: 0, ...extra });
    defer(t, () => c.end(true));
    c.once('connect', () => resolve(c));
    c.once('error', (err) => {
      c.end(true);
      reject(err);
    });
  });
}

export function nextMessage(
  c: MqttClient,
  match: (topic: string) => boolean,
  timeoutMs = 5000,
): Promise<{ topic: string; payload: Buffer }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off('message', on);
      reject(new Error('no message'));
    }, timeoutMs);
    const on = (topic: string, payload: Buffer) => {
      if (!match(topic)) return;
      clearTimeout(timer);
      c.off('message', on);
      resolve({ topic, payload });
    };
    c.on('message', on);
  });
}

export async function metricsText(gw: TestGateway | { httpPort: number }): Promise<string> {
  return (await fetch(`http://127.0.0.1:${gw.httpPort}/metrics`)).text();
}

/** Polls `cond` until it holds; fails with `what` at the deadline. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what} not met within ${timeoutMs} ms`);
}

/** A valid power reading for sequence number `seq` (≤ 500): event time a second apart, charge rising. */
export function power(seq: number): Power {
  return { seq, ts: 1_763_856_000_000 + seq * 1000, soc: 50 + seq / 10, batteryV: 13, solarW: 1, windW: 2, loadW: 3, state: 'full' };
}

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/**
 * The gateway as its own process (main.ts, as systemd starts it), on the given ports, with its
 * data and credentials file in `dir`; `env` adds SHOUWANG_GATEWAY_* settings. Resolves once
 * /health answers. The caller kills it (a SIGKILL is the point of most of these tests).
 */
export async function startGatewayProcess(dir: string, port: number, httpPort: number, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const child = fork(MAIN, [], {
    stdio: 'ignore',
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      SHOUWANG_GATEWAY_MQTT_PORT: String(port),
      SHOUWANG_GATEWAY_HTTP_PORT: String(httpPort),
      SHOUWANG_GATEWAY_DATA_DIR: dir,
      SHOUWANG_GATEWAY_AUTH_CREDENTIALS_FILE: join(dir, 'credentials.json'),
      ...env,
    },
  });
  await waitUntil('gateway', async () => (await fetch(`http://127.0.0.1:${httpPort}/health`)).ok, child);
  return child;
}
