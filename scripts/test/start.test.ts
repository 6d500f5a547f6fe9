/**
 * `./dev start` fails fast and loudly and leaves nothing behind: a part that cannot start ends
 * the run with its name and reason; every part ends with the orchestrator however it is stopped;
 * a second run on a data dir in use is refused before it touches anything.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSystem } from '../system.ts';
import { spawnCaptured } from './harness.ts';

const START = fileURLToPath(new URL('../start.ts', import.meta.url));

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shouwang-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

async function freePort(): Promise<number> {
  const s = await listen();
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const run = (t: TestContext, args: string[]) =>
  spawnCaptured(t, process.execPath, [START, '--units', '1', '--http-port', '0', '--flows-port', '0', ...args]);

async function until(what: string, ok: () => boolean, timeoutMs: number, show: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`${what} not reached within ${timeoutMs} ms\n${show()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a part that fails to start ends the run with its name, the reason and a non-zero exit; nothing keeps its ports', {
  timeout: 90_000,
}, async (t) => {
  const taken = await listen();
  t.after(() => new Promise((r) => taken.close(r)));
  const mqttPort = await freePort();
  const r = run(t, [
    '--mqtt-port',
    String(mqttPort),
    '--gateway-http-port',
    String((taken.address() as { port: number }).port),
    '--data-dir',
    await tempDir(t),
  ]);
  const code = await Promise.race([r.exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 60_000))]);
  assert.equal(code, 1, `exit code (output:\n${r.out()})`);
  assert.match(r.out(), /start failed: gateway failed to start: .*EADDRINUSE/);
  // The gateway had bound MQTT before failing on HTTP: its port is free again.
  const again = await listen(mqttPort);
  await new Promise((res) => again.close(res));
});

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`every part ends with the orchestrator when it gets ${signal}`, { timeout: 120_000 }, async (t) => {
    const r = run(t, ['--mqtt-port', '0', '--gateway-http-port', '0', '--data-dir', await tempDir(t)]);
    await until('the system running', () => r.out().includes('Shouwang is running'), 90_000, r.out);
    const pid = r.child.pid;
    assert.ok(pid);
    const parts = childPids(pid);
    assert.equal(parts.length, 4, 'gateway, fleet, Node-RED and one unit');
    assert.match(r.out(), /flows \(Node-RED\) {2}http:\/\/127\.0\.0\.1:\d+\/ {3}user admin, password \S+/);
    r.child.kill(signal);
    const left = () =>
      parts.filter(alive).map((p) => execFileSync('ps', ['-o', 'pid=,stat=,args=', '-p', String(p)], { encoding: 'utf8' }));
    await until(
      `every part gone after ${signal}`,
      () => parts.every((p) => !alive(p)),
      30_000,
      () => `${left().join('')}\n${r.out()}`,
    );
    const code = await r.exited;
    if (signal === 'SIGTERM') assert.equal(code, 0);
  });
}

test('a second run on a data dir in use is refused before it touches anything, naming the process that holds it', {
  timeout: 90_000,
}, async (t) => {
  const dataDir = await tempDir(t);
  const first = await startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir });
  t.after(() => first.stop());
  const credentials = await readFile(first.credentialsFile, 'utf8');
  await assert.rejects(
    startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir }),
    new RegExp(`data dir .* is in use by process ${process.pid} `),
  );
  assert.equal(await readFile(first.credentialsFile, 'utf8'), credentials, 'the running gateway’s credentials are untouched');
  const health = (await (await fetch(`http://127.0.0.1:${first.httpPort}/api/health`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  // Once the first run stops, the dir is free again.
  await first.stop();
  const second = await startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir });
  await second.stop();
});
