/** `./dev sim` as a technician types it: help on request, a usage error (not a stack) otherwise. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SIM = fileURLToPath(new URL('../sim.ts', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [SIM, ...args], { encoding: 'utf8', env: { ...process.env, SHOUWANG_DATA_DIR: '/nonexistent' } });

test('./dev sim --help prints the usage and exits 0; bad invocations exit 2 with the usage, no stack', () => {
  for (const flag of ['--help', '-h']) {
    const r = run(flag);
    assert.equal(r.status, 0, flag);
    assert.match(r.stdout, /^usage: \.\/dev sim/, flag);
  }
  for (const args of [['--bogus'], [], ['hrb-001']]) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /usage: \.\/dev sim/, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
  }
  const gone = run('hrb-001', 'truth');
  assert.equal(gone.status, 3);
  assert.match(gone.stderr, /no running simulated unit hrb-001/);
});
