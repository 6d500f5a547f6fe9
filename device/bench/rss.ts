/**
 * Agent memory. Each figure is a separate process's VmRSS (/proc/<pid>/status) after it has been
 * connected and idle for a few seconds, against a real Aedes on loopback:
 *   baseline  an idle connected MQTT.js client made with mqtt.connect() and nothing else;
 *   agent     `node device/src/main.ts --sim` (TypeScript stripped at load);
 *   bundle    the deploy bundle as the unit runs it: .data/deploy/agent.mjs with the node flags and the
 *             environment of deploy/shouwang-device.service, read from that file so they cannot drift;
 * In sim mode the simulator (environment, power model, GPS/modem/IO fakes, link shaper) runs inside
 * the agent process, so these figures include it; on a real board it is not loaded.
 *   backlog   the bundle draining a 24-hour backlog (peak RSS while draining).
 *   upload    the bundle uploading a 20 MB clip from its bulk lane (peak RSS, and CPU as a share of
 *             one core from /proc/<pid>/stat), against the same bundle idle.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rangeBytes } from '@shouwang/protocol';
import type { BenchRow as Row } from '@shouwang/runtime';
import { Aedes } from 'aedes';
import { BulkStore } from '../src/services/bulk-store.ts';
import { Outbox } from '../src/services/outbox.ts';
import { AGENT_MAIN, deployedUnit, forkAgent } from '../test/agent-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = 'hrb-901';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** User + system CPU time of a process, seconds (clock ticks at the usual 100 Hz). */
function cpuS(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / 100;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settle(child: ChildProcess, ms: number): Promise<number> {
  await sleep(ms);
  const v = rssMb(child.pid as number);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return v;
}

/** A day of what the agent queues on the full rung: hourly telemetry, status every minute, events. */
function fillBacklog(path: string): number {
  const o = Outbox.open(path, { quotaBytes: 1 << 30 });
  const t0 = Date.now() - 86_400_000;
  for (let m = 0; m < 1440; m++) {
    const ts = t0 + m * 60_000;
    o.enqueue('power', { ts, soc: 60, batteryV: 13, solarW: 10, windW: 2, loadW: 6, state: 'full' });
    o.enqueue('location', { ts, lat: 45.75, lon: 126.63, fix: '3d' });
    o.enqueue('link', { ts, type: 'lte', rssiDbm: -80, bars: 4 });
    if (m % 60 === 59)
      o.enqueue('telemetry', {
        ts: ts - 3_540_000,
        periodMs: 60_000,
        series: { soc_pct: Array(60).fill(60), batt_cV: Array(60).fill(1300) },
      });
  }
  const n = o.size().count;
  o.close();
  return n;
}

export async function bench(): Promise<Row[]> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-rss-'));
  try {
    const baseline = await settle(
      spawn(process.execPath, ['-e', `require('mqtt').connect(${JSON.stringify(url)}); setInterval(() => {}, 1000)`], {
        cwd: ROOT,
        stdio: 'ignore',
      }),
      5000,
    );
    // The unit's flags and glibc tunables (deploy/shouwang-device.service, where each is explained).
    const unit = deployedUnit();
    const idle = 'setInterval(() => {}, 1000)';
    const floor = await settle(
      spawn(process.execPath, [...unit.flags, '-e', idle], { stdio: 'ignore', env: { ...process.env, ...unit.env } }),
      3000,
    );
    // The same client the agent makes (mqtt-connect.ts): client module only, no number cache.
    const lean = await settle(
      spawn(
        process.execPath,
        [
          ...unit.flags,
          '--input-type=module',
          '-e',
          `import c from 'mqtt/lib/client'; import net from 'node:net'; const u = new URL(${JSON.stringify(url)});
           new c.default(() => net.connect(Number(u.port), u.hostname), { protocol: 'mqtt', writeCache: false }); ${idle}`,
        ],
        { cwd: ROOT, stdio: 'ignore', env: { ...process.env, ...unit.env } },
      ),
      5000,
    );
    const agent = (dataDir: string, deployed: boolean) => ({ unitId: UNIT, url, dataDir, deployed, logLevel: 'warn' });
    const agentTs = await settle(await forkAgent(AGENT_MAIN, agent(join(dir, 'a'), false)), 5000);
    execFileSync(process.execPath, [join(ROOT, 'device/deploy/build.ts')], { cwd: ROOT, stdio: 'ignore' });
    const bundle = join(ROOT, '.data/deploy/agent.mjs');
    const agentJs = await settle(await forkAgent(bundle, agent(join(dir, 'b'), true)), 5000);

    // Backlog: the broker is unreachable while the day accumulates, then the agent drains it.
    const rows = fillBacklog(join(dir, 'c', 'outbox.db'));
    const child = await forkAgent(bundle, agent(join(dir, 'c'), true));
    let peak = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 8000) {
      peak = Math.max(peak, rssMb(child.pid as number));
      await sleep(50);
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));

    // Upload: a 20 MB clip waiting in the bulk lane, sent over the simulator's 4G link (2 MB/s).
    const clip = join(dir, 'd', 'clip.bin');
    await mkdir(join(dir, 'd'), { recursive: true });
    await writeFile(clip, randomBytes(20_000_000));
    const lane = BulkStore.open(join(dir, 'd', 'bulk.db'), { quotaBytes: 1 << 30, now: Date.now });
    await lane.enqueueFile(clip, { recording: 'clip-rss', kind: 'clip', pinned: true });
    lane.close();
    const uploader = await forkAgent(bundle, agent(join(dir, 'd'), true));
    const pid = uploader.pid as number;
    let uploadPeak = 0;
    const cpu0 = cpuS(pid);
    const u0 = Date.now();
    while (Date.now() - u0 < 8000) {
      uploadPeak = Math.max(uploadPeak, rssMb(pid));
      await sleep(50);
    }
    const elapsedS = (Date.now() - u0) / 1000;
    const cpuShare = ((cpuS(pid) - cpu0) / elapsedS) * 100;
    uploader.kill('SIGTERM');
    await new Promise((r) => uploader.once('exit', r));
    const after = BulkStore.open(join(dir, 'd', 'bulk.db'), { quotaBytes: 1 << 30, now: Date.now });
    const sent = after.get('clip-rss');
    const uploaded = sent ? rangeBytes(sent.sent) : 20_000_000;
    after.close();
    return [
      { name: 'bare Node 24 process, unit flags: the floor', value: floor, unit: 'MB' },
      {
        name: 'idle MQTT.js client as the agent makes it (baseline: mqtt.connect defaults)',
        value: lean,
        unit: 'MB',
        baseline,
      },
      { name: 'agent RSS idle, .ts entry (baseline: bare mqtt.connect client)', value: agentTs, unit: 'MB', baseline },
      {
        name: 'agent RSS idle, deploy bundle (baseline: bare mqtt.connect client)',
        value: agentJs,
        unit: 'MB',
        baseline,
        target: '≤ 64 MB',
      },
      { name: `agent RSS peak draining a 24 h backlog (${rows} msgs), bundle`, value: peak, unit: 'MB', baseline, target: '≤ 96 MB' },
      {
        name: 'agent RSS peak uploading a 20 MB clip, bundle (baseline: the bundle idle)',
        value: uploadPeak,
        unit: 'MB',
        baseline: agentJs,
        target: '≤ 96 MB',
      },
      { name: 'agent CPU uploading a 20 MB clip, bundle, share of one core', value: cpuShare, unit: '%' },
      {
        name: 'agent upload rate over the simulator’s 4G link (baseline: its 2 MB/s)',
        value: uploaded / elapsedS / 1e6,
        baseline: 2,
        unit: 'MB/s',
      },
    ];
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit} (baseline ${r.baseline?.toFixed(1)})`);
}
