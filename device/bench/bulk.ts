/**
 * The bulk lane over the simulator's link shaper at 4G 512 kbit/s (64 kB/s, 50 ms each way),
 * against a real Aedes broker: what a media upload costs on the wire against the media bytes
 * themselves, and how long an alarm takes from enqueue to the broker while a clip uploads,
 * against the same alarms on an idle link (both measured in this run).
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkShaper } from '@shouwang/hardware';
import { decodeMessage, topics } from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import { Aedes } from 'aedes';
import { openLane } from '../test/lane.ts';

const UNIT = 'hrb-001';
const THIN_4G = { bytesPerSecond: 64_000, latencyMs: 50 };
/** IPv4 + TCP headers (with timestamps) per full segment of a 1500-byte MTU path: 52 B per 1448 B. */
const TCPIP_PER_BYTE = 52 / 1448;

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('bench condition not reached');
    await wait(5);
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

export async function bench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-bulk-'));
  const broker = await Aedes.createBroker();
  const arrivals = new Map<string, number>();
  broker.on('publish', (packet, client) => {
    if (!client || packet.topic !== topics.uplink(UNIT, 'alarm')) return;
    const m = decodeMessage(packet.topic, packet.payload as Buffer);
    if (m.ok && m.value.type === 'uplink' && m.value.kind === 'alarm') arrivals.set(m.value.payload.id, Date.now());
  });
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const shaper = new LinkShaper({ host: '127.0.0.1', port: (server.address() as { port: number }).port }, THIN_4G);
  const { port } = await shaper.listen();
  const { outbox, store, sender, uplink, close } = openLane(dir, `mqtt://127.0.0.1:${port}`);
  await until(() => uplink.ready, 10_000);

  let n = 0;
  const alarms = async (count: number): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `bench:${n++}`;
      const t0 = Date.now();
      outbox.enqueue('alarm', { ts: t0, id, kind: 'tamper', severity: 'critical', state: 'raised' });
      uplink.kick();
      await until(() => arrivals.has(id), 30_000);
      out.push((arrivals.get(id) as number) - t0);
      await wait(400);
    }
    return out;
  };

  const idle = await alarms(20);

  const clip = join(dir, 'clip.ts');
  const media = randomBytes(1_600_000);
  await writeFile(clip, media);
  const up0 = shaper.bytesUp;
  await store.enqueueFile(clip, { recording: 'clip-bench', kind: 'clip', pinned: true });
  uplink.kick();
  await until(() => sender.stats.acked >= 2, 30_000);
  const busy = await alarms(20);
  const stillUploading = store.backlogBytes() > 0;
  await until(() => store.backlogBytes() === 0, 120_000);
  // Everything the unit sent meanwhile counts: chunk headers, PUBLISH framing, keep-alives, and the
  // 20 alarms (about 3 kB of the total).
  const wire = shaper.bytesUp - up0;

  await close();
  await shaper.close();
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  await rm(dir, { recursive: true, force: true });
  if (!stillUploading) throw new Error('the upload finished before the alarms: nothing measured under load');

  return [
    {
      name: 'bulk: upload overhead, MQTT bytes / media bytes (1.6 MB, 4G 512 kbit/s)',
      value: wire,
      baseline: media.length,
      unit: 'B',
      target: '≤ 1.05×',
    },
    {
      name: 'bulk: upload overhead with TCP/IPv4 headers (52 B per 1448 B segment)',
      value: Math.round(wire * (1 + TCPIP_PER_BYTE)),
      baseline: media.length,
      unit: 'B',
      target: '≤ 1.05×',
    },
    {
      name: 'bulk: alarm latency p50 during a clip upload (idle link: baseline)',
      value: pct(busy, 50),
      baseline: pct(idle, 50),
      unit: 'ms',
    },
    {
      name: 'bulk: alarm latency p99 during a clip upload (idle link: baseline)',
      value: pct(busy, 99),
      baseline: pct(idle, 99),
      unit: 'ms',
      target: '< 2000 ms',
    },
  ];
}
