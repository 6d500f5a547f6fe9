/**
 * The unit runs the esbuild bundle, not the .ts sources: built here as deploy/build.ts builds it and
 * started as systemd starts it, against a real broker. Its schedules run in the configured zone
 * through the bundle's patched node-cron (deploy/node-cron-local-time.ts), which only this test
 * exercises inside the bundle.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { forkAgent } from './agent-process.ts';
import { startBroker } from './broker.ts';
import { until } from './wait.ts';

const BUILD = fileURLToPath(new URL('../deploy/build.ts', import.meta.url));
const UNIT = 'hrb-977';

/** Starts the bundle with a snapshot schedule; counts the snapshots the schedule fired. */
async function startBundle(t: TestContext, bundle: string, url: string, dataDir: string, snapshots: string) {
  const child = await forkAgent(bundle, {
    unitId: UNIT,
    url,
    dataDir,
    deployed: true,
    logLevel: 'info',
    stdout: 'pipe',
    env: { SHOUWANG_DEVICE_SCHEDULE_TIMEZONE: 'Asia/Shanghai', SHOUWANG_DEVICE_SCHEDULE_SNAPSHOTS: snapshots },
  });
  let count = 0;
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (buffered + d.toString()).split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.includes('"why":"schedule"')) count++;
  });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  t.after(stop);
  return { scheduledSnapshots: () => count, stop };
}

/** `* * H1,H2 * * *`: every second of this hour and the next, read in `offsetH`'s local time. */
function hoursPattern(offsetH: number): string {
  const h = (new Date().getUTCHours() + offsetH + 24) % 24;
  return `* * ${h},${(h + 1) % 24} * * *`;
}

test('the deploy bundle runs the agent: online on the broker, schedules in the site time zone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bundle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bundle = join(dir, 'agent.mjs');
  execFileSync(process.execPath, [BUILD, bundle], { stdio: 'ignore' });
  const broker = await startBroker(t);

  // Shanghai's hours (UTC+8): snapshots fire every second, and the unit reaches the broker.
  const local = await startBundle(t, bundle, broker.url, join(dir, 'a'), hoursPattern(8));
  await until('scheduled snapshots', () => local.scheduledSnapshots() >= 2, 20_000);
  await until('an uplink from the bundle', () => broker.received.some((r) => r.clientId === UNIT), 20_000);
  await local.stop();

  // The same hours read as UTC are eight hours away from Shanghai's: nothing may fire. Only once
  // this run is up (its own uplink reached the broker) does its silence say anything; then the
  // schedule, firing every second in the first run, has had three seconds to fire here.
  const fromUnit = () => broker.received.filter((r) => r.clientId === UNIT).length;
  const before = fromUnit();
  const utc = await startBundle(t, bundle, broker.url, join(dir, 'b'), hoursPattern(0));
  await until('an uplink from the second run', () => fromUnit() > before, 20_000);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(utc.scheduledSnapshots(), 0, 'a schedule read in UTC instead of the site zone fired');
  await utc.stop();
});
