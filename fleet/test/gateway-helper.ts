/**
 * The real gateway process (spawned from gateway/src/main.ts, met only on the wire and through the
 * credentials file) on free ports, with its state in `dir`.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const GATEWAY = fileURLToPath(new URL('../../gateway/src/main.ts', import.meta.url));

export async function startGateway(t: TestContext, dir: string, credentialsFile: string): Promise<string> {
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
  return `mqtt://127.0.0.1:${ready.mqttPort}`;
}
