/**
 * A fresh clone stays clean after the README's quick start: `./dev` installs the npm dependencies
 * from the lock file without rewriting it, and `./dev start` keeps its data under ignored paths.
 * Costly (a real `npm install` into an empty clone, from npm's cache where it can), so one test.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnCaptured } from './harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a fresh clone is left unmodified by ./dev start (npm install from the lock, data under ignored paths)', {
  timeout: 300_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'shouwang-clone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  // This Node first on PATH, as ./dev would have put it: the clone need not fetch Node again.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`, npm_config_prefer_offline: 'true' };
  const { child, out, exited } = spawnCaptured(
    t,
    join(dir, 'dev'),
    ['start', '--units', '1', '--mqtt-port', '0', '--http-port', '0', '--gateway-http-port', '0', '--flows-port', '0'],
    { cwd: dir, env },
  );
  const deadline = Date.now() + 240_000;
  while (!out().includes('Shouwang is running')) {
    if (Date.now() > deadline || child.exitCode !== null) assert.fail(`./dev start did not come up in the clone:\n${out().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 0, out().slice(-2000));
  const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
  assert.equal(status, '', 'the clone is modified');
});
