/**
 * Fleet ingest at city scale: 10,000 simulated units each reporting power every 10 s, through a
 * real broker into the fleet's MQTT ingest and live state (decode, newest-wins, derived outlook,
 * liveness sweep, change events).
 *
 * Rows: steady msgs/s applied, state-update lag p50/p99 (publish → state change event, both on this
 * machine's clock), fleet RSS with 10,000 units held; then a burst, against a bare MQTT.js
 * subscriber on the same broker in the same run as the baseline (what the client alone can take).
 *
 * Runnable alone: `node fleet/bench/ingest.ts` prints a table.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filters } from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import { Value } from '@sinclair/typebox/value';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { startFleet } from '../src/fleet.ts';
import type { LoadCommand } from './load.lib.ts';

const UNITS = 10_000;
const PERIOD_MS = 10_000;
const STEADY_MS = Number(process.env.BENCH_STEADY_MS ?? 30_000);
const BURST = 60_000;

function loadGenerator(): Promise<{ child: ChildProcess; url: string; run(cmd: LoadCommand): Promise<number> }> {
  const child = fork(new URL('./load.lib.ts', import.meta.url), ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const run = async (cmd: LoadCommand) => {
    child.send(cmd);
    const [m] = (await once(child, 'message')) as [{ type: string; sent?: number; message?: string }];
    if (m.type !== 'done') throw new Error(`load generator: ${m.message ?? m.type}`);
    return m.sent ?? 0;
  };
  return once(child, 'message').then(([m]) => ({ child, url: (m as { url: string }).url, run }));
}

const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** Messages a bare subscriber receives per second during a burst: the client-side ceiling. */
async function bareSubscriber(url: string, load: (cmd: LoadCommand) => Promise<number>): Promise<number> {
  const c = await mqtt.connectAsync(url, { clientId: 'bench-bare', reconnectPeriod: 0 });
  let got = 0;
  c.on('message', () => got++);
  await c.subscribeAsync(filters.allUplink('power'), { qos: 1 });
  // The retained backlog (one per unit) arrives on subscribe; time the burst alone.
  while (got < UNITS) await new Promise((r) => setTimeout(r, 5));
  const g0 = got;
  const t0 = performance.now();
  await load({ type: 'burst', units: UNITS, count: BURST });
  while (got - g0 < BURST && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 5));
  const rate = ((got - g0) * 1000) / (performance.now() - t0);
  await c.endAsync();
  return rate;
}

export async function bench(): Promise<BenchRow[]> {
  const gen = await loadGenerator();
  const dataDir = await mkdtemp(join(tmpdir(), 'fleet-bench-'));
  try {
    await gen.run({ type: 'announce', units: UNITS });
    const bareRate = await bareSubscriber(gen.url, gen.run);
    (globalThis as { gc?: () => void }).gc?.();
    const rssIdle = process.memoryUsage().rss / 2 ** 20;

    const config = Value.Default(
      FleetConfig,
      Value.Convert(FleetConfig, { dataDir, http: { port: 0 }, mqtt: { url: gen.url, clientId: 'bench-fleet' } }),
    ) as FleetConfig;
    const fleet = await startFleet(config, pino({ level: 'silent' }));
    await fleet.ingest.subscribed;

    const lastTs = new Map<string, number>();
    let lags: number[] = [];
    let applied = 0;
    fleet.state.on('unit', (u) => {
      const ts = u.power?.ts;
      if (ts === undefined || lastTs.get(u.id) === ts) return; // a liveness change, not a reading
      lastTs.set(u.id, ts);
      applied++;
      // Compact payloads carry whole seconds; lag is measured on the JSON half (odd unit numbers), which keep ms.
      if (Number(u.id.slice(-1)) % 2 === 1) lags.push(Date.now() - ts);
    });
    // The retained backlog (4 messages per unit) lands on subscribe; wait for it before measuring.
    while (fleet.state.list().length < UNITS || fleet.ingest.received < UNITS * 4) await new Promise((r) => setTimeout(r, 100));

    applied = 0;
    lags = [];
    const t0 = performance.now();
    const sent = await gen.run({ type: 'steady', units: UNITS, periodMs: PERIOD_MS, durationMs: STEADY_MS });
    while (applied < sent && performance.now() - t0 < STEADY_MS + 10_000) await new Promise((r) => setTimeout(r, 50));
    const steadyRate = (applied * 1000) / (performance.now() - t0);
    const sorted = [...lags].sort((a, b) => a - b);
    const lagP50 = quantile(sorted, 0.5);
    const lagP99 = quantile(sorted, 0.99);
    (globalThis as { gc?: () => void }).gc?.();
    const rssMb = process.memoryUsage().rss / 2 ** 20;

    const r0 = fleet.ingest.received;
    const b0 = performance.now();
    await gen.run({ type: 'burst', units: UNITS, count: BURST });
    while (fleet.ingest.received - r0 < BURST && performance.now() - b0 < 120_000) await new Promise((r) => setTimeout(r, 5));
    const burstRate = ((fleet.ingest.received - r0) * 1000) / (performance.now() - b0);
    const rejected = [...fleet.ingest.rejected.values()].reduce((a, b) => a + b, 0);
    await fleet.close();
    if (rejected > 0) throw new Error(`${rejected} bench messages were rejected`);

    return [
      {
        name: `ingest steady: ${UNITS} units every ${PERIOD_MS / 1000} s, applied`,
        value: steadyRate,
        unit: 'msg/s',
        target: `≥ ${(0.95 * UNITS * 1000) / PERIOD_MS}`,
      },
      { name: 'ingest steady: state-update lag p50', value: lagP50, unit: 'ms', target: '< 100' },
      { name: 'ingest steady: state-update lag p99', value: lagP99, unit: 'ms', target: '< 1000' },
      {
        name: `fleet RSS holding ${UNITS} units (vs this process before the fleet started)`,
        value: rssMb,
        unit: 'MB',
        baseline: rssIdle,
        target: '< 512',
      },
      { name: 'ingest burst into live state (vs bare MQTT.js subscriber)', value: burstRate, unit: 'msg/s', baseline: bareRate },
    ];
  } finally {
    gen.child.disconnect();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await bench();
  console.table(rows.map((r) => ({ ...r, value: Number(r.value.toFixed(1)), baseline: r.baseline && Number(r.baseline.toFixed(1)) })));
}
