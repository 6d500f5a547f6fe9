/**
 * What an over-the-air update costs, measured in one run:
 *   delta     zstd deltas between the agent bundles of this repo's last commits that changed the
 *             agent (each commit a patch release), names kept (what releases ship) against
 *             esbuild's identifier mangling (baseline), and the full download against the bundle;
 *   memory    the agent's idle RSS from the kept-names bundle against the mangled one, since V8
 *             keeps the whole script text in the heap;
 *   resume    bytes fetched for a full download cut three times, against the bytes needed;
 *   offline   a unit's time without a PUBACKed publish across an update's switch (old release
 *             exits → launcher → new release's first acknowledged report), against a plain restart
 *             of the same release; both with the harness's 200 ms restart delay (RestartSec=5 on a unit adds 5 s).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMessage, encodeRequest, topics } from '@shouwang/protocol';
import type { BenchRow as Row } from '@shouwang/runtime';
import { Aedes } from 'aedes';
import { buildBundle } from '../deploy/build.ts';
import { bundleAt, commitsTouching } from '../release/history.ts';
import { discardDownload, downloadOnce } from '../src/services/ota-download.ts';
import { compressFull, makeDelta } from '../src/services/ota-zstd.ts';
import { forkAgent } from '../test/agent-process.ts';
import { artifactServer, jobFor, makeReleases, supervisedUnit } from '../test/ota-harness.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[s.length >> 1] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** Cleanups run in reverse, as node:test's `t.after` hooks would. */
function cleanups() {
  const fns: (() => unknown)[] = [];
  return {
    after: (fn: () => unknown) => void fns.push(fn),
    run: async () => {
      for (const fn of fns.reverse()) await fn();
    },
  };
}

async function deltas(work: string) {
  const commits = commitsTouching(['device/src', 'protocol/src', 'hardware/src', 'runtime/src'], 9);
  const out: Record<'kept' | 'mangled', { deltas: number[]; full: number; bundle: number }> = {
    kept: { deltas: [], full: 0, bundle: 0 },
    mangled: { deltas: [], full: 0, bundle: 0 },
  };
  for (const names of ['kept', 'mangled'] as const) {
    let prev: Buffer | undefined;
    for (const c of commits) {
      const file = join(work, `${c}-${names}.mjs`);
      await bundleAt(c, join(work, names), file, { names });
      const b = readFileSync(file);
      if (prev) out[names].deltas.push(makeDelta(prev, b).length);
      prev = b;
    }
    out[names].bundle = prev?.length ?? 0;
    out[names].full = prev ? compressFull(prev).length : 0;
  }
  return { commits: commits.length, ...out };
}

async function withBroker<T>(fn: (url: string, broker: Aedes) => Promise<T>): Promise<T> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, broker);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
  }
}

async function idleRss(bundle: string, url: string, dataDir: string): Promise<number> {
  const child = await forkAgent(bundle, { unitId: 'ota-bench-rss', url, dataDir, deployed: true, logLevel: 'warn' });
  await sleep(5000);
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Time from the old process's exit to the next PUBACKed publish from the unit. */
async function offline(mode: 'switch' | 'restart'): Promise<number> {
  const c = cleanups();
  try {
    const rel = await makeReleases(c);
    const server = await artifactServer(c, rel.root);
    return await withBroker(async (url, broker) => {
      // Aedes answers a QoS 1 PUBLISH with its PUBACK once it has handled it, which is when `publish` fires.
      const acked: number[] = [];
      const online = new Set<string>();
      broker.on('publish', (packet, client) => {
        if (client?.id !== 'ota-bench-1') return;
        acked.push(Date.now());
        const m = decodeMessage(packet.topic, packet.payload as Buffer);
        if (m.ok && m.value.type === 'uplink' && m.value.kind === 'presence' && m.value.payload.state === 'online') online.add(client.id);
      });
      const unit = await supervisedUnit(c, { unitId: 'ota-bench-1', url, base: rel.base, trustedFile: rel.trustedFile });
      while (!online.has('ota-bench-1')) await sleep(20);
      await sleep(1000);
      const first = unit.child();
      const exitedAt = new Promise<number>((r) => first?.once('exit', () => r(Date.now())));
      if (mode === 'switch') {
        const job = jobFor(rel.next, server);
        broker.publish(
          {
            cmd: 'publish',
            topic: topics.request('ota-bench-1', 'ota'),
            payload: Buffer.from(encodeRequest('ota', { id: 'b1', args: job, expires: job.deadline })),
            qos: 1,
            retain: false,
            dup: false,
          },
          () => undefined,
        );
      } else first?.kill('SIGTERM');
      const gone = await exitedAt;
      const deadline = Date.now() + 60_000;
      while (!acked.some((a) => a > gone) && Date.now() < deadline) await sleep(10);
      const back = acked.find((a) => a > gone);
      // Before the broker's listener closes: it waits for every connection, and the unit would reconnect.
      await unit.stop();
      if (back === undefined) throw new Error(`no acknowledged publish after the ${mode}`);
      return (back - gone) / 1000;
    });
  } finally {
    await c.run();
  }
}

async function resumed(): Promise<{ sent: number; needed: number }> {
  const c = cleanups();
  try {
    const rel = await makeReleases(c);
    const server = await artifactServer(c, rel.root);
    const full = rel.next.manifest.full;
    const path = join(rel.root, 'bench-download');
    server.cutNext(3, Math.floor(full.size / 5));
    for (let i = 0; i < 10; i++) {
      try {
        await downloadOnce({ url: server.url(rel.next, full.name), path, size: full.size });
        break;
      } catch {
        // cut: the next attempt resumes
      }
    }
    discardDownload(path);
    return { sent: server.sent(), needed: full.size };
  } finally {
    await c.run();
  }
}

export async function bench(): Promise<Row[]> {
  const work = await mkdtemp(join(tmpdir(), 'sw-bench-ota-'));
  try {
    const d = await deltas(work);
    const rss = await withBroker(async (url) => {
      const kept = join(work, 'rss-kept.mjs');
      const mangled = join(work, 'rss-mangled.mjs');
      await buildBundle(kept, { names: 'kept' });
      await buildBundle(mangled, { names: 'mangled' });
      return { kept: await idleRss(kept, url, join(work, 'rk')), mangled: await idleRss(mangled, url, join(work, 'rm')) };
    });
    const r = await resumed();
    const restart = await offline('restart');
    const swap = await offline('switch');
    const kb = (n: number) => n / 1024;
    return [
      {
        name: `delta per patch release, median of ${d.kept.deltas.length} (commits of this repo), names kept (baseline: mangled)`,
        value: kb(median(d.kept.deltas)),
        unit: 'KB',
        baseline: kb(median(d.mangled.deltas)),
        target: '≤ 10 KB',
      },
      {
        name: 'delta per patch release, largest, names kept (baseline: mangled)',
        value: kb(Math.max(...d.kept.deltas)),
        unit: 'KB',
        baseline: kb(Math.max(...d.mangled.deltas)),
      },
      {
        name: 'full download (zstd -19), names kept (baseline: the bundle itself)',
        value: kb(d.kept.full),
        unit: 'KB',
        baseline: kb(d.kept.bundle),
      },
      {
        name: 'full download (zstd -19), mangled (baseline: the bundle itself)',
        value: kb(d.mangled.full),
        unit: 'KB',
        baseline: kb(d.mangled.bundle),
      },
      {
        name: 'agent RSS idle, names kept (baseline: mangled bundle)',
        value: rss.kept,
        unit: 'MB',
        baseline: rss.mangled,
        target: '≤ 64 MB',
      },
      {
        name: 'bytes fetched for a full download cut 3 times (baseline: bytes needed)',
        value: kb(r.sent),
        unit: 'KB',
        baseline: kb(r.needed),
        target: '≤ 1.1× needed',
      },
      { name: 'unit offline across the update switch (baseline: plain restart)', value: swap, unit: 's', baseline: restart },
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit} (baseline ${r.baseline?.toFixed(2)})`);
}
