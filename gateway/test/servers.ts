/**
 * Real outside servers for tests, started on 127.0.0.1 and free ports with data in a temp dir,
 * stopped through the test context. Debian's packages: influxd (1.6), redis-server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { defer } from './defer.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, probe: () => Promise<boolean>, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

/** Stops a child server (TERM, then KILL after 5 s) and removes its data directory. */
export function stopper(child: ChildProcess, dir?: string) {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  };
}

/** influxd with every listener on loopback: the stock config binds :8086 and :8088 on all interfaces. */
export async function startInfluxd(t: TestContext): Promise<{ url: string; query(q: string): Promise<unknown[][]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'influxd-'));
  const [http, rpc] = [await freePort(), await freePort()];
  const conf = `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${http}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`;
  await writeFile(join(dir, 'influxdb.conf'), conf);
  const child = spawn('influxd', ['-config', join(dir, 'influxdb.conf')], { stdio: 'ignore' });
  defer(t, stopper(child, dir));
  const url = `http://127.0.0.1:${http}`;
  await waitUntil('influxd', async () => (await fetch(`${url}/ping`)).status === 204, child);
  return {
    url,
    async query(q: string) {
      const res = await fetch(`${url}/query?db=shouwang&q=${encodeURIComponent(q)}&epoch=ms`);
      const body = (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
      return body.results[0]?.series?.[0]?.values ?? [];
    },
  };
}

/** redis-server with no persistence to disk beyond its temp dir, on a free loopback port. */
export async function startRedis(t: TestContext): Promise<{ url: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  defer(t, stopper(child, dir));
  await waitUntil(
    'redis-server',
    () =>
      new Promise<boolean>((resolve) => {
        const s = createConnection(port, '127.0.0.1', () => s.write('PING\r\n'));
        s.once('data', (d) => {
          s.destroy();
          resolve(d.toString().startsWith('+PONG'));
        });
        s.once('error', () => resolve(false));
      }),
    child,
  );
  return { url: `redis://127.0.0.1:${port}` };
}
