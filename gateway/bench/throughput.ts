/**
 * Gateway throughput next to Debian's Mosquitto measured in the same run, with the same clients:
 * units publishing a valid power status (~130 B JSON) at QoS 0 and 1, one service subscribed to
 * all of it. QoS 1 counts PUBACKs at the publishers (each one a journal fsync behind it for the
 * gateway); QoS 0 counts deliveries at the subscriber.
 * Two client patterns: `burst` sends 200, waits for all 200, sends the next 200 (every PUBACK's
 * latency stalls the publisher); `sliding` keeps 200 in flight, sending one as each is
 * acknowledged, as a client with an in-flight limit does. Both brokers see the same pattern.
 */

import { readdir, readFile } from 'node:fs/promises';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { type Row, type RunningBroker, startBareAedes, startGatewayProcess, startMosquitto } from './brokers.lib.ts';

const PUBLISHERS = 4;
// Enough for a run of a second or more on each broker: shorter runs scattered by ±30 %.
const PER_PUBLISHER = { 0: 50_000, 1: 20_000 } as const;
const units = Array.from({ length: PUBLISHERS }, (_, i) => `bench-${i}`);

function client(b: RunningBroker, id: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { clientId: id, ...b.auth(id), reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

type Pattern = 'burst' | 'sliding';

/**
 * CPU seconds a broker process (all its threads) has used: utime + stime from /proc, in clock
 * ticks (USER_HZ, 100 on Linux). On a shared two-core machine the rate depends on what the
 * bench's own clients get; CPU per message is each broker's cost alone.
 */
async function cpuSeconds(pid: number): Promise<number> {
  return ticks(await readFile(`/proc/${pid}/stat`, 'utf8')) / 100;
}

function ticks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * The same, per thread group of a Node broker, by the names Node gives its threads: the event
 * loop, the journal's worker thread, V8's helper threads (concurrent GC, compilers). Where the
 * gateway's CPU goes beyond bare Aedes's, which the total alone does not say.
 */
const THREADS: Record<string, string> = {
  MainThread: 'main thread',
  WorkerThread: 'journal writer thread',
  V8Worker: "V8's GC and compiler threads",
};
async function cpuByThread(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${task}/stat`, 'utf8').catch(() => ''); // a thread may end meanwhile
    if (!stat) continue;
    const group = THREADS[stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))] ?? 'other threads';
    out.set(group, (out.get(group) ?? 0) + ticks(stat) / 100);
  }
  return out;
}

interface Run {
  rate: number;
  cpuUs: number;
  /** µs of CPU per message, by thread group (Node brokers). */
  threadsUs: Map<string, number>;
}

export async function runCase(b: RunningBroker, qos: 0 | 1, pattern: Pattern): Promise<Run> {
  const sub = await client(b, 'fleet');
  await sub.subscribeAsync(filters.allUplink('power'), { qos });
  const pubs = await Promise.all(units.map((u) => client(b, u)));
  const n = PER_PUBLISHER[qos];
  const total = n * PUBLISHERS;
  let delivered = 0;
  const allDelivered = new Promise<void>((resolve) => {
    sub.on('message', () => {
      if (++delivered === total) resolve();
    });
  });
  const cpu0 = await cpuSeconds(b.pid);
  const threads0 = await cpuByThread(b.pid);
  const start = performance.now();
  await Promise.all(
    pubs.map(async (p, i) => {
      const unitId = units[i] as string;
      const topic = topics.uplink(unitId, 'power');
      const inflight: Promise<unknown>[] = [];
      for (let seq = 1; seq <= n; seq++) {
        const payload = Buffer.from(
          encodeUplink('power', {
            seq,
            ts: 1_763_856_000_000 + seq,
            soc: 71.5,
            batteryV: 13.1,
            solarW: 12.4,
            windW: 3.1,
            loadW: 6.2,
            state: 'full',
          }),
        );
        inflight.push(p.publishAsync(topic, payload, { qos }));
        if (inflight.length >= 200) await (pattern === 'burst' ? Promise.all(inflight.splice(0)) : inflight.shift());
      }
      await Promise.all(inflight);
    }),
  );
  if (qos === 0) await Promise.race([allDelivered, new Promise((r) => setTimeout(r, 20_000))]);
  const seconds = (performance.now() - start) / 1000;
  const cpu = (await cpuSeconds(b.pid)) - cpu0;
  const threadsUs = new Map([...(await cpuByThread(b.pid))].map(([g, s]) => [g, ((s - (threads0.get(g) ?? 0)) / total) * 1e6]));
  for (const c of [sub, ...pubs]) c.end(true);
  return { rate: (qos === 0 ? delivered : total) / seconds, cpuUs: (cpu / total) * 1e6, threadsUs };
}

export async function bench(): Promise<Row[]> {
  const rows: Row[] = [];
  const cases = [
    [0, 'burst'],
    [1, 'burst'],
    [1, 'sliding'],
  ] as const;
  for (const [qos, pattern] of cases) {
    const results = new Map<string, number>();
    const cpu = new Map<string, number>();
    const threads = new Map<string, Map<string, number>>();
    // Alternate the brokers and keep each one's best of three runs: these machines vary ±10–30 %.
    for (let round = 0; round < 3; round++) {
      for (const start of [startMosquitto, startBareAedes, () => startGatewayProcess(units)]) {
        const b = await start();
        try {
          await runCase(b, qos, pattern); // warm-up
          const { rate, cpuUs, threadsUs } = await runCase(b, qos, pattern);
          results.set(b.name, Math.max(results.get(b.name) ?? 0, rate));
          if (cpuUs < (cpu.get(b.name) ?? Number.POSITIVE_INFINITY)) {
            cpu.set(b.name, cpuUs);
            threads.set(b.name, threadsUs);
          }
        } finally {
          await b.stop();
        }
      }
    }
    const label = `QoS ${qos}${pattern === 'sliding' ? ', sliding window' : ''}`;
    const baseline = results.get('mosquitto') as number;
    rows.push({ name: `${label} mosquitto`, value: baseline, unit: 'msg/s' });
    const baseCpu = cpu.get('mosquitto') as number;
    rows.push({ name: `${label} mosquitto, broker CPU per message`, value: baseCpu, unit: 'µs' });
    for (const [name, value] of cpu) {
      if (name === 'mosquitto') continue;
      rows.push({ name: `${label} ${name}, broker CPU per message`, value, unit: 'µs', baseline: baseCpu });
      for (const [group, us] of threads.get(name) ?? [])
        if (us >= 0.05) rows.push({ name: `${label} ${name}, CPU per message: ${group}`, value: us, unit: 'µs' });
    }
    for (const [name, value] of results) {
      if (name === 'mosquitto') continue;
      rows.push({
        name: `${label} ${name}`,
        value,
        unit: 'msg/s',
        baseline,
        ...(name.startsWith('gateway') ? { target: '≥ 0.8× mosquitto' } : {}),
      });
      rows.push({
        name: `${label} ${name} / mosquitto`,
        value: Math.round((value / baseline) * 100) / 100,
        unit: 'ratio',
        ...(name.startsWith('gateway') ? { target: '≥ 0.8' } : {}),
      });
    }
  }
  return rows;
}

if (import.meta.main) {
  console.table(await bench());
  process.exit(0);
}
