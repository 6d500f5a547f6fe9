/**
 * An alarm storm: 1,000 units raise an intrusion at once, through a real broker into the fleet's
 * durable intake, engine and ticket loop, on SQLite and on PostgreSQL. Each alarm is as a unit
 * with video raises it: with the head of its evidence chain, which the fleet keeps once the
 * alarm's batch committed.
 *
 * Rows per store: alarm → ticket latency p50 and p99 against a bare MQTT.js subscriber's delivery
 * latency for the same storm in the same run; tickets/s against the messages/s that bare
 * subscriber received. The latency runs from the alarm's time to when its ticket committed:
 *
 * - PostgreSQL: the commit timestamp PostgreSQL itself recorded for the transaction that wrote the
 *   ticket (`track_commit_timestamp`), read once the storm is over, so nothing polls meanwhile. A
 *   further storm is timed as a reader polling every 5 ms sees it, for comparison: each of its
 *   polls is a query the same two cores serve while they decide the storm.
 * - SQLite keeps no commit times: a reader polling every 5 ms, when it first saw each ticket.
 *
 * Processes as in production: the broker and the publishing units run in a child process
 * (`storm.lib.ts`), as the gateway runs apart from the fleet; the ticket reader in another
 * (`storm-reader.lib.ts`, its own database connection), as the dashboard and outside systems read
 * from theirs; the fleet (or the bare subscriber) alone here. With all of them in one process, the
 * fleet's figures also carried the broker's, the publisher's and the reader's CPU on the fleet's
 * event loop (measured once both ways; the fleet README has the figures).
 *
 * Warm, as a fleet that has been running: each store takes two storms of 1,000 other units in a
 * row, and the target is on the second. The first (reported as "first storm after a start") also
 * pays for the JIT compiling the fleet's code and for fresh database connections filling their
 * caches; the bare subscriber gets the same warm-up storm first.
 *
 * Runnable alone: `node fleet/bench/alarm-storm.ts`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, filters } from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import { startPostgres } from '@shouwang/testkit';
import { Value } from '@sinclair/typebox/value';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { startFleet } from '../src/fleet.ts';
import type { StormCommand, StormDone } from './storm.lib.ts';
import type { ReadAnswer, ReadCommand } from './storm-reader.lib.ts';

const UNITS = 1000;
type Storm = (prefix: string) => Promise<{ t0: number; raisedAt: Map<string, number> }>;
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/** The broker and the units' side, in a child process; answers its broker's URL and a storm trigger. */
async function stormer(): Promise<{ child: ChildProcess; url: string; storm: Storm }> {
  const child = fork(new URL('./storm.lib.ts', import.meta.url), ['--storm'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [ready] = (await once(child, 'message')) as [{ url: string }];
  const storm = async (prefix: string) => {
    child.send({ type: 'storm', prefix, units: UNITS } satisfies StormCommand);
    const [m] = (await once(child, 'message')) as [StormDone | { type: 'error'; message: string }];
    if (m.type !== 'done') throw new Error(`storm: ${m.message}`);
    return { t0: m.t0, raisedAt: new Map(m.raisedAt) };
  };
  return { child, url: ready.url, storm };
}

/** Delivery latency and rate of a subscriber that does nothing with the alarms: the floor. */
async function bare(url: string, storm: Storm): Promise<{ p50: number; p99: number; perS: number }> {
  const sub = await mqtt.connectAsync(url, { clientId: 'bench-bare', reconnectPeriod: 0 });
  const lat: number[] = [];
  let last = 0;
  sub.on('message', (topic, p) => {
    last = Date.now();
    const m = decodeMessage(topic, p);
    if (m.ok && m.value.type === 'uplink' && m.value.kind === 'alarm') lat.push(last - m.value.payload.ts);
  });
  await sub.subscribeAsync(filters.allUplink('alarm'), { qos: 1 });
  await storm('barew');
  while (lat.length < UNITS) await new Promise((r) => setTimeout(r, 10));
  lat.length = 0;
  const { t0 } = await storm('bare');
  while (lat.length < UNITS) await new Promise((r) => setTimeout(r, 10));
  await sub.endAsync();
  lat.sort((a, b) => a - b);
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), perS: UNITS / ((last - t0) / 1000) };
}

async function fleetStorm(url: string, storm: Storm, storageUrl: string, dataDir: string, prefix: string) {
  const raw = {
    dataDir,
    http: { port: 0 },
    mqtt: { url },
    storage: { url: storageUrl },
    alarms: { instanceId: prefix },
  };
  const fleet = await startFleet(Value.Default(FleetConfig, Value.Convert(FleetConfig, raw)) as FleetConfig, pino({ level: 'silent' }));
  const reader = fork(new URL('./storm-reader.lib.ts', import.meta.url), ['--read'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answer = () => once(reader, 'message').then(([m]) => m as ReadAnswer | { type: 'error'; message: string });
  /** One storm of fresh units, timed from each alarm to when its ticket committed, as `how` tells. */
  const timed = async (units: string, how: ReadCommand['how']) => {
    reader.send({
      type: 'read',
      units: UNITS,
      prefix: units,
      how,
      ...(storageUrl ? { postgres: storageUrl } : { sqlite: join(dataDir, 'fleet.db') }),
    } satisfies ReadCommand);
    const ready = await answer();
    if (ready.type !== 'ready') throw new Error(`reader: ${ready.type === 'error' ? ready.message : ready.type}`);
    const published = storm(units);
    const done = await answer();
    if (done.type !== 'seen') throw new Error(`reader: ${done.type === 'error' ? done.message : done.type}`);
    const seen = new Map(done.seen);
    const { t0, raisedAt } = await published;
    const lat = [...seen].map(([unit, at]) => at - (raisedAt.get(unit) ?? at)).sort((a, b) => a - b);
    const end = Math.max(...seen.values());
    return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), perS: UNITS / ((end - t0) / 1000) };
  };
  try {
    await fleet.loop.intake.subscribed;
    const how = storageUrl ? 'commit' : 'poll';
    const cold = await timed(`${prefix}c`, how);
    const warm = await timed(prefix, how);
    return { cold, warm, polled: how === 'commit' ? await timed(`${prefix}p`, 'poll') : null };
  } finally {
    if (reader.connected) reader.disconnect();
    await fleet.close();
  }
}

export async function bench(): Promise<BenchRow[]> {
  const units = await stormer();
  const dir = await mkdtemp(join(tmpdir(), 'bench-storm-'));
  const teardown: (() => Promise<unknown>)[] = [];
  try {
    const base = await bare(units.url, units.storm);
    const sqlite = await fleetStorm(units.url, units.storm, '', dir, 'sq');
    const { url: pgUrl } = await startPostgres((fn) => teardown.unshift(fn), { settings: { track_commit_timestamp: 'on' } });
    const postgres = await fleetStorm(units.url, units.storm, pgUrl, dir, 'pg');
    const rows: BenchRow[] = [];
    for (const [name, { cold, warm: r }] of [
      ['SQLite, seen by a 5 ms poller', sqlite],
      ['PostgreSQL, commit timestamps', postgres],
    ] as const) {
      rows.push(
        {
          name: `first storm of ${UNITS} after a start: alarm → ticket p99, ${name} (baseline: bare subscriber delivery)`,
          value: cold.p99,
          unit: 'ms',
          baseline: base.p99,
        },
        {
          name: `storm of ${UNITS}: alarm → ticket p50, ${name} (baseline: bare subscriber delivery)`,
          value: r.p50,
          unit: 'ms',
          baseline: base.p50,
        },
        {
          name: `storm of ${UNITS}: alarm → ticket p99, ${name} (baseline: bare subscriber delivery)`,
          value: r.p99,
          unit: 'ms',
          baseline: base.p99,
          target: '< 250 ms',
        },
        {
          name: `storm of ${UNITS}: tickets/s, ${name} (baseline: bare subscriber msgs/s)`,
          value: r.perS,
          unit: '/s',
          baseline: base.perS,
        },
      );
    }
    if (postgres.polled)
      rows.push({
        name: `storm of ${UNITS}: alarm → ticket p99, PostgreSQL, seen by a 5 ms poller (baseline: bare subscriber delivery)`,
        value: postgres.polled.p99,
        unit: 'ms',
        baseline: base.p99,
      });
    return rows;
  } finally {
    for (const fn of teardown) await fn();
    units.child.disconnect();
    await once(units.child, 'exit');
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.table(await bench());
