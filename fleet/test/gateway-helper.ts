/**
 * The real gateway process (spawned from gateway/src/main.ts, met only on the wire and through the
 * credentials file) on free ports, with its state in `dir`. The credentials file starts with the
 * fleet's service account only: units get theirs through the fleet's registry, as in the field.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashSecret, MACHINE_SECRET_COST } from '@shouwang/runtime/secrets';

const GATEWAY = fileURLToPath(new URL('../../gateway/src/main.ts', import.meta.url));

export interface TestGateway {
  mqttUrl: string;
  credentialsFile: string;
  /** The `fleet` service account's password. */
  fleetPassword: string;
}

export async function startGateway(t: TestContext, dir: string): Promise<TestGateway> {
  const credentialsFile = join(dir, 'credentials.json');
  const fleetPassword = 'fleet-service-secret';
  const fleet = { hash: await hashSecret(fleetPassword, MACHINE_SECRET_COST), role: 'service' };
  await writeFile(credentialsFile, JSON.stringify({ units: {}, services: { fleet } }));
  const child = fork(GATEWAY, [], {
    env: {
      ...process.env,
      SHOUWANG_GATEWAY_DATA_DIR: join(dir, 'gateway'),
      SHOUWANG_GATEWAY_MQTT_PORT: '0',
      SHOUWANG_GATEWAY_HTTP_PORT: '0',
      SHOUWANG_GATEWAY_AUTH_CREDENTIALS_FILE: credentialsFile,
      SHOUWANG_GATEWAY_BROKER_STATE: 'memory',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  t.after(async () => {
    if (child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });
  const [ready] = (await once(child, 'message')) as [{ type: string; mqttPort: number }];
  assert.equal(ready.type, 'ready');
  return { mqttUrl: `mqtt://127.0.0.1:${ready.mqttPort}`, credentialsFile, fleetPassword };
}

/**
 * Gives these units MQTT credentials on the gateway, all with one secret, as provisioning by other
 * means than the fleet's registry would (the file is replaced whole, as the fleet writes it).
 */
export async function addUnitCredentials(gw: TestGateway, ids: readonly string[], password: string): Promise<void> {
  const hash = await hashSecret(password, MACHINE_SECRET_COST);
  const file = JSON.parse(await readFile(gw.credentialsFile, 'utf8')) as { units: Record<string, string> };
  for (const id of ids) file.units[id] = hash;
  await writeFile(`${gw.credentialsFile}.tmp`, JSON.stringify(file));
  await rename(`${gw.credentialsFile}.tmp`, gw.credentialsFile);
}
