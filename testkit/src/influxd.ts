import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cleanup, freePort, stopper, waitUntil } from './process.ts';

/**
 * Debian's influxd (1.6) with every listener on loopback: the stock config binds :8086 and :8088
 * on all interfaces. `query` reads the `shouwang` database with ms timestamps.
 */
export async function startInfluxd(cleanup: Cleanup): Promise<{ url: string; query(q: string): Promise<unknown[][]> }> {
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
  cleanup(stopper(child, dir));
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
