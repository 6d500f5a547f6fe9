/**
 * Outbox enqueue and drain rates. Enqueue: the agent's durable enqueue (WAL, synchronous=FULL)
 * against the same table with synchronous=NORMAL as the in-run baseline (what FULL costs).
 * Drain: a 5,000-message backlog through the uplink to a real Aedes on loopback, against raw
 * MQTT.js QoS 1 publishing of the same payloads with no outbox (the link's own ceiling), so the
 * ratio says whether the disk or the link limits the drain.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { systemClock } from '@shouwang/hardware';
import { encodeUplink, topics } from '@shouwang/protocol';
import type { BenchRow as Row } from '@shouwang/runtime';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { linkPolicy } from '../src/domain/upload-policy.ts';
import { connectMqtt } from '../src/services/mqtt-connect.ts';
import { Outbox } from '../src/services/outbox.ts';
import { Uplink } from '../src/services/uplink.ts';

const UNIT = 'bench-001';
const power = (ts: number) => ({ ts, soc: 71.5, batteryV: 13.12, solarW: 18.2, windW: 4.1, loadW: 6.3, state: 'full' as const });

function enqueueRate(path: string, n: number): number {
  const o = Outbox.open(path, { quotaBytes: 1 << 30 });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) o.enqueue('power', power(i));
  const s = (performance.now() - t0) / 1000;
  o.close();
  return n / s;
}

function normalSyncRate(path: string, n: number): number {
  enqueueRate(path, 1);
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  const bump = db.prepare(`UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value`);
  const ins = db.prepare('INSERT INTO outbox (seq, kind, priority, payload, bytes) VALUES (?, ?, ?, ?, ?)');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    db.exec('BEGIN IMMEDIATE');
    const seq = (bump.get() as { value: number }).value;
    const json = JSON.stringify({ ...power(i), seq });
    ins.run(seq, 'power', 2, json, json.length);
    db.exec('COMMIT');
  }
  const s = (performance.now() - t0) / 1000;
  db.close();
  return n / s;
}

async function withBroker<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    return await fn(url);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  }
}

async function drainRate(url: string, path: string, n: number): Promise<number> {
  const outbox = Outbox.open(path, { quotaBytes: 1 << 30 });
  for (let i = 0; i < n; i++) outbox.enqueue('power', power(i));
  const up = new Uplink({
    unitId: UNIT,
    url,
    password: '',
    keepaliveS: 30,
    clock: systemClock,
    outbox,
    log: pino({ level: 'silent' }),
    policy: () => linkPolicy({ link: 'lte', powerState: 'full', satelliteBudgetBytes: 0, compactOnCellular: true }),
    presence: () => ({}),
    connect: connectMqtt,
  });
  const t0 = performance.now();
  const done = new Promise<void>((r) => up.on('drained', r));
  up.start();
  await done;
  const s = (performance.now() - t0) / 1000;
  await up.close();
  outbox.close();
  return n / s;
}

async function rawPublishRate(url: string, n: number): Promise<number> {
  const c = await mqtt.connectAsync(url, { clientId: 'raw', protocolVersion: 4 });
  const topic = topics.uplink(UNIT, 'power');
  const t0 = performance.now();
  // The same in-flight window as the uplink (64), so only the outbox differs.
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const i = next++;
        await c.publishAsync(topic, Buffer.from(encodeUplink('power', { ...power(i), seq: i }, 'compact')), { qos: 1 });
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  await c.endAsync();
  return n / s;
}

export async function bench(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-outbox-'));
  try {
    const n = 2000;
    const normal = normalSyncRate(join(dir, 'normal.db'), n);
    const full = enqueueRate(join(dir, 'full.db'), n);
    const drainN = 5000;
    const [drain, raw] = await withBroker(async (url) => [
      await drainRate(url, join(dir, 'drain.db'), drainN),
      await rawPublishRate(url, drainN),
    ]);
    return [
      {
        name: 'outbox enqueue (WAL, synchronous=FULL; baseline NORMAL)',
        value: full,
        unit: 'msg/s',
        baseline: normal,
        target: '≫ 1 msg/s needed',
      },
      { name: 'outbox drain to Aedes, QoS 1 (baseline raw MQTT.js)', value: drain, unit: 'msg/s', baseline: raw, target: 'link-bound' },
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(0)} ${r.unit} (baseline ${r.baseline?.toFixed(0)})`);
}
