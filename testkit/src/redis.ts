import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cleanup, freePort, stopper, waitUntil } from './process.ts';

/** Debian's redis-server with no persistence beyond its temp dir, on a free loopback port. */
export async function startRedis(cleanup: Cleanup): Promise<{ url: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  cleanup(stopper(child, dir));
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
