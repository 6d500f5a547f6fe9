/**
 * Harness vocabulary for over-the-air tests:
 *   `makeReleases(t)`    a signing key in a temp dir, a trusted-keys file, and releases built by
 *                        the release tool from this checkout: 0.1.0 (what units run first) and
 *                        0.2.0 with a delta from 0.1.0; `release(v, opts)` makes more (a crashing
 *                        bundle, another key).
 *   `artifactServer(t)`  a loopback HTTP server with Range support over the releases folder; it
 *                        counts the bytes it sends and can cut the next responses mid-body.
 *   `supervisedUnit(t)`  a simulated unit run as systemd runs it: boot-select before every start
 *                        of `<slots>/current/agent.mjs`, restarted when it exits (Restart=always),
 *                        with `kill9()` for a power cut.
 *   `jobFor(…)`          the update job a fleet would send, with URLs into the artifact server.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { ReleaseManifest, SignedManifest, TrustedKeys, UpdateJob } from '@shouwang/protocol';
import { selectBoot } from '../deploy/boot-select.ts';
import { buildRelease, signRelease } from '../release/release.ts';
import type { Slot } from '../src/domain/ota-plan.ts';
import { initSlots } from '../src/services/ota-slots.ts';
import { generateSigningKey } from '../src/services/ota-trust.ts';
import { deployedUnit } from './agent-process.ts';

/** What the helpers need of a test: somewhere to register cleanup (a bench passes its own). */
export type Cleanup = Pick<TestContext, 'after'>;

export interface Release {
  dir: string;
  manifest: ReleaseManifest;
  signed: SignedManifest;
}

export interface Releases {
  root: string;
  trustedFile: string;
  trusted: TrustedKeys;
  keyId: string;
  keyPem: string;
  base: Release;
  next: Release;
  release(
    version: string,
    o?: { bundle?: Buffer; from?: Release[]; keyId?: string; keyPem?: string; minBatteryPct?: number },
  ): Promise<Release>;
}

export async function makeReleases(t: Cleanup): Promise<Releases> {
  const root = await mkdtemp(join(tmpdir(), 'sw-ota-rel-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const keyId = 'release-1';
  const key = generateSigningKey();
  const trusted: TrustedKeys = { keys: [{ id: keyId, publicKey: key.publicKey }] };
  const trustedFile = join(root, 'trusted-keys.json');
  writeFileSync(trustedFile, JSON.stringify(trusted));
  const release: Releases['release'] = async (version, o = {}) => {
    const { dir, manifest } = await buildRelease({
      version,
      out: root,
      from: (o.from ?? []).map((r) => r.dir),
      ...(o.bundle ? { bundle: o.bundle } : {}),
      ...(o.minBatteryPct !== undefined ? { minBatteryPct: o.minBatteryPct } : {}),
      boards: ['pi4'],
    });
    const signed = signRelease(dir, o.keyId ?? keyId, o.keyPem ?? key.privatePem);
    return { dir, manifest, signed };
  };
  const base = await release('0.1.0');
  const next = await release('0.2.0', { from: [base] });
  return { root, trustedFile, trusted, keyId, keyPem: key.privatePem, base, next, release };
}

export interface ArtifactServer {
  url(release: Release, name: string): string;
  /** Body bytes sent, every response. */
  sent(): number;
  /** The next `times` responses are cut after `afterBytes` body bytes. */
  cutNext(times: number, afterBytes: number): void;
}

export async function artifactServer(t: Cleanup, root: string): Promise<ArtifactServer> {
  let sent = 0;
  let cuts: { times: number; after: number } = { times: 0, after: 0 };
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(m ? 206 : 200, {
      'content-length': size - start,
      ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const cut = cuts.times > 0 ? cuts.after : Number.POSITIVE_INFINITY;
    if (cuts.times > 0) cuts = { ...cuts, times: cuts.times - 1 };
    let here = 0;
    const stream = createReadStream(path, { start, highWaterMark: 4096 });
    stream.on('data', (chunk) => {
      const c = chunk as Buffer;
      const take = Math.min(c.length, cut - here);
      if (take > 0) {
        res.write(c.subarray(0, take));
        here += take;
        sent += take;
      }
      if (here >= cut) {
        stream.destroy();
        res.socket?.destroy();
      }
    });
    stream.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  server.closeIdleConnections();
  const port = (server.address() as { port: number }).port;
  return {
    url: (release, name) => `http://127.0.0.1:${port}/${release.manifest.version}/${name}`,
    sent: () => sent,
    cutNext: (times, afterBytes) => {
      cuts = { times, after: afterBytes };
    },
  };
}

export function jobFor(
  r: Release,
  server: ArtifactServer,
  o: { campaign?: string; deadlineMs?: number; policy?: UpdateJob['policy'] } = {},
): UpdateJob {
  return {
    campaign: o.campaign ?? `c-${r.manifest.version}`,
    release: r.signed,
    artifacts: [r.manifest.full, ...r.manifest.deltas.slice(0, 2)].map((a) => ({ name: a.name, url: server.url(r, a.name) })),
    deadline: Date.now() + (o.deadlineMs ?? 7 * 86_400_000),
    policy: o.policy ?? { allowSatellite: false },
  };
}

export interface SupervisedUnit {
  slotsDir: string;
  dataDir: string;
  /** The slot of each start, in order. */
  starts: Slot[];
  child(): ChildProcess | undefined;
  /** A power cut: SIGKILL, then the supervisor starts it again. */
  kill9(): void;
  /** Powered down until `wake()` (planned sleep, a flat battery): killed and not restarted. */
  sleep(): Promise<void>;
  wake(): void;
  stop(): Promise<void>;
}

export async function supervisedUnit(
  t: Cleanup,
  o: { unitId: string; url: string; password?: string; base: Release; trustedFile: string; env?: Record<string, string> },
): Promise<SupervisedUnit> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-ota-unit-'));
  const slotsDir = join(dir, 'slots');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  initSlots(slotsDir, readFileSync(join(o.base.dir, 'agent.mjs')), o.base.signed);
  const unit = deployedUnit();
  const starts: Slot[] = [];
  let child: ChildProcess | undefined;
  let stopped = false;
  let asleep = false;
  let exited: Promise<void> = Promise.resolve();
  const live = new Set<ChildProcess>();
  const start = () => {
    // One agent at a time, as systemd runs one: a wake while a restart is pending starts it once.
    if (stopped || asleep || live.size > 0) return;
    starts.push(selectBoot(slotsDir));
    const c = fork(join(slotsDir, 'current', 'agent.mjs'), ['--sim'], {
      execArgv: unit.flags,
      env: {
        ...process.env,
        ...unit.env,
        LOG_LEVEL: process.env.TEST_LOG ?? 'silent',
        SHOUWANG_DEVICE_UNIT_ID: o.unitId,
        SHOUWANG_DEVICE_MQTT_URL: o.url,
        ...(o.password ? { SHOUWANG_DEVICE_MQTT_PASSWORD: o.password } : {}),
        SHOUWANG_DEVICE_DATA_DIR: dataDir,
        SHOUWANG_DEVICE_SIM_CONTROL: 'false',
        SHOUWANG_DEVICE_OTA_SLOTS_DIR: slotsDir,
        SHOUWANG_DEVICE_OTA_TRUSTED_KEYS: o.trustedFile,
        SHOUWANG_DEVICE_OTA_RETRY_S: '1',
        SHOUWANG_DEVICE_OTA_HEALTH_DEADLINE_S: '20',
        ...o.env,
      },
      // A crashing release's stack trace is expected noise unless a log is asked for.
      stdio: ['ignore', process.env.TEST_LOG ? 'inherit' : 'ignore', process.env.TEST_LOG ? 'inherit' : 'ignore', 'ipc'],
    });
    child = c;
    live.add(c);
    exited = new Promise((r) =>
      c.once('exit', () => {
        live.delete(c);
        r();
        // RestartSec: short here, 5 s on a unit.
        if (!stopped && !asleep) setTimeout(start, 200);
      }),
    );
  };
  start();
  const su: SupervisedUnit = {
    slotsDir,
    dataDir,
    starts,
    child: () => child,
    kill9: () => child?.kill('SIGKILL'),
    sleep: async () => {
      asleep = true;
      child?.kill('SIGKILL');
      await exited;
    },
    wake: () => {
      asleep = false;
      start();
    },
    stop: async () => {
      stopped = true;
      for (const c of live) c.kill('SIGKILL');
      await exited;
    },
  };
  t.after(async () => {
    await su.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return su;
}
