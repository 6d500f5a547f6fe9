/**
 * The agent while it records and uploads: the deploy bundle, started as systemd starts a unit
 * (forkAgent's `deployed`), on the simulated board, against a real Aedes on loopback. Each
 * process measured on its own from /proc: VmRSS, and CPU as (utime + stime) over a window.
 *   baseline   the same bundle with video off (video.enabled=false), idle;
 *   recording  video on: the ring recorder (ffmpeg, a separate process, measured separately) at
 *              the ladder's `full` mode, 1 Mbit/s, 15 fps, 640×360 test pattern + tone, libx264;
 *   uploading  the same after a tamper alarm (sim control plane): its clip and still go up the
 *              bulk lane to the broker while recording goes on (peak RSS over the window).
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow as Row } from '@shouwang/runtime';
import { Aedes } from 'aedes';
import { forkAgent } from '../test/agent-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = 'hrb-917';
const TICK_S = 100; // USER_HZ on Linux
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function cpuTicks(pid: number): number {
  // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function ffmpegOf(pid: number): number | undefined {
  return childPids(pid).find(
    (c) =>
      readFileSync(`/proc/${c}/cmdline`, 'utf8').startsWith('ffmpeg') && readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('segment'),
  );
}

interface Sample {
  rss: number;
  peak: number;
  cpuPct: number;
}

/** RSS (mean and peak) and CPU % of `pid()` over `ms`. */
async function sample(pid: () => number | undefined, ms: number): Promise<Sample> {
  const p0 = pid();
  if (p0 === undefined) throw new Error('process not running');
  const c0 = cpuTicks(p0);
  const t0 = Date.now();
  let peak = 0;
  let sum = 0;
  let n = 0;
  while (Date.now() - t0 < ms) {
    const p = pid();
    if (p !== undefined) {
      const r = rssMb(p);
      peak = Math.max(peak, r);
      sum += r;
      n++;
    }
    await sleep(100);
  }
  const p1 = pid() ?? p0;
  const cpuPct = p1 === p0 ? ((cpuTicks(p1) - c0) / TICK_S / ((Date.now() - t0) / 1000)) * 100 : Number.NaN;
  return { rss: sum / Math.max(1, n), peak, cpuPct };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export async function bench(): Promise<Row[]> {
  const broker = await Aedes.createBroker();
  let chunkBytes = 0;
  let linkSeen = false;
  broker.on('publish', (p) => {
    if (p.topic.endsWith('/chunk')) chunkBytes += p.payload.length;
    if (p.topic.endsWith('/link')) linkSeen = true;
  });
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-video-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'device/deploy/build.ts')], { cwd: ROOT, stdio: 'ignore' });
    const bundle = join(ROOT, '.data/deploy/agent.mjs');
    const agent = (dataDir: string, video: boolean) => ({
      unitId: UNIT,
      url,
      dataDir,
      deployed: true,
      logLevel: 'warn',
      env: { SHOUWANG_DEVICE_VIDEO_ENABLED: String(video), SHOUWANG_DEVICE_SIM_CONTROL: 'true' },
    });

    const idle = await forkAgent(bundle, agent(join(dir, 'idle'), false));
    await sleep(4000);
    const base = await sample(() => idle.pid, 6000);
    await stop(idle);

    linkSeen = false;
    const rec = await forkAgent(bundle, agent(join(dir, 'rec'), true));
    const agentPid = () => rec.pid;
    const ffPid = () => ffmpegOf(rec.pid as number);
    await sleep(6000);
    const [recAgent, recFf] = await Promise.all([sample(agentPid, 10_000), sample(ffPid, 10_000)]);

    // The lane sends once the agent has read its link (its first status report).
    for (const t0 = Date.now(); !linkSeen; await sleep(200))
      if (Date.now() - t0 > 90_000) throw new Error('the agent never reported its link');
    // A tamper alarm: its still and, after the post-roll, its clip go up the lane while recording goes on.
    const control = readFileSync(join(dir, 'rec', 'sim-control.url'), 'utf8').trim();
    const before = chunkBytes;
    await fetch(`${control}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ op: 'tamper', on: true }),
    });
    const [upAgent, upFf] = await Promise.all([sample(agentPid, 30_000), sample(ffPid, 30_000)]);
    const uploaded = chunkBytes - before;
    await stop(rec);

    const mb = (n: number) => Math.round(n * 10) / 10;
    return [
      {
        name: 'agent RSS recording, bundle (baseline: video off, idle)',
        value: mb(recAgent.peak),
        unit: 'MB',
        baseline: mb(base.peak),
        target: '≤ 96 MB',
      },
      {
        name: `agent RSS peak recording + uploading an alarm clip (${Math.round(uploaded / 1024)} KiB of chunks in 30 s)`,
        value: mb(upAgent.peak),
        unit: 'MB',
        baseline: mb(base.peak),
        target: '≤ 96 MB',
      },
      {
        name: 'agent CPU recording (baseline: video off, idle)',
        value: mb(recAgent.cpuPct),
        unit: '% of a core',
        baseline: mb(base.cpuPct),
      },
      { name: 'agent CPU recording + uploading', value: mb(upAgent.cpuPct), unit: '% of a core', baseline: mb(base.cpuPct) },
      { name: 'ffmpeg RSS recording 1 Mbit/s 640×360 15 fps + AAC (separate process)', value: mb(recFf.peak), unit: 'MB' },
      { name: 'ffmpeg CPU recording (libx264 veryfast; a Pi 4 uses its VideoCore encoder)', value: mb(recFf.cpuPct), unit: '% of a core' },
      { name: 'ffmpeg CPU while the clip uploads', value: mb(upFf.cpuPct), unit: '% of a core', baseline: mb(recFf.cpuPct) },
    ];
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => broker.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value} ${r.unit} (baseline ${r.baseline ?? '-'})`);
}
