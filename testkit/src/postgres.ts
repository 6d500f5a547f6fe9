/**
 * A real PostgreSQL from Debian's packages, on 127.0.0.1 and a free port with its data in a
 * temporary folder. PostgreSQL refuses to run as root and tests run as root, so the cluster
 * belongs to the `postgres` system user and every server command runs through `runuser`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Cleanup, freePort } from './process.ts';

const BIN = '/usr/lib/postgresql/15/bin';
const run = promisify(execFile);

async function uid(user: string): Promise<{ uid: number; gid: number }> {
  const [u, g] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(u.stdout), gid: Number(g.stdout) };
}

function asPostgres(cmd: string, args: string[]): string[] {
  return process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', cmd, ...args] : [cmd, ...args];
}

export interface PostgresOptions {
  /**
   * Server settings beyond the test defaults, each passed as `-c name=value` (a setting that needs a
   * restart, such as `track_commit_timestamp` or `shared_preload_libraries`, is set from the start).
   */
  settings?: Record<string, string>;
}

export async function startPostgres(cleanup: Cleanup, options: PostgresOptions = {}): Promise<{ url: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-'));
  cleanup(() => rm(dir, { recursive: true, force: true }));
  if (process.getuid?.() === 0) {
    const { uid: u, gid } = await uid('postgres');
    await chown(dir, u, gid);
  }
  const data = join(dir, 'data');
  const [initCmd, ...initArgs] = asPostgres(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  await run(initCmd as string, initArgs);
  const port = await freePort();
  const [cmd, ...args] = asPostgres(`${BIN}/postgres`, [
    '-D',
    data,
    '-k',
    dir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
    ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ]);
  const server: ChildProcess = spawn(cmd as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanup(async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    // runuser does not pass signals on to postgres: ask pg_ctl for a fast shutdown instead.
    const [stopCmd, ...stopArgs] = asPostgres(`${BIN}/pg_ctl`, ['stop', '-D', data, '-m', 'fast', '-w']);
    await run(stopCmd as string, stopArgs);
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    server.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
      if (log.includes('ready to accept connections')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${log}`)));
  });
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}
