import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSecret, MACHINE_SECRET_COST, newSecret } from '@shouwang/runtime/secrets';
import { selectBoot } from '../device/deploy/boot-select.ts';
import { BUNDLE_FILE, readBootState } from '../device/src/services/ota-slots.ts';
import { provisionUnit } from './provision.ts';
import { HARBIN_SITES, unitIdFor } from './sites.ts';
import { prepareSlots, type SeedRelease, seedRelease } from './unit-slots.ts';

/**
 * Starts the whole system as separate processes, the way it runs in the field: a gateway, the
 * fleet manager and N simulated units, each a real agent process on the hardware simulator.
 * Readiness comes from each child's IPC `ready` message (runtime's runService), never from sleeps.
 * A unit runs as systemd runs it on a Pi (device/deploy/shouwang-device.service): the launcher
 * (boot-select) picks its slot, the agent bundle in `<slots>/current` starts, and when the agent
 * ends for the launcher (a slot switch, a failed health check) or a release on trial crashes, it
 * is started again through the launcher (Restart=always); so demo units take updates
 * (scripts/unit-slots.ts).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface SystemOptions {
  units: number;
  /** 0 picks free ports. */
  mqttPort: number;
  httpPort: number;
  gatewayHttpPort: number;
  dataDir: string;
  /** Where children's log lines go, one line at a time, tagged with the process name. */
  onLog?: (source: string, line: string) => void;
  /** Extra env for every child (e.g. LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
  scenario?: string;
  /** Simulated seconds per real second on the units. */
  timeScale?: number;
  /** An InfluxDB (1.x HTTP API): the gateway writes readings to it and the fleet reads history from it. */
  influxUrl?: string;
  /**
   * With an admin token the fleet owns the units' credentials, as in the field: each unit is
   * registered with its demo site and claimed through the fleet's API before it starts
   * (scripts/provision.ts), so the registry, the dashboard's sites and rotate/revoke are real.
   * Without one (tests reading the API openly) the units get credentials written beforehand.
   */
  adminToken?: string;
  /**
   * Node-RED beside the fleet (flows/src/server.ts) with the shipped flows, given a `flows` token
   * and its own broker service account; needs `adminToken` to make the token. `env` carries the
   * endpoints and knobs the default flows read (SHOUWANG_12345_URL, SHOUWANG_OPEN311_URL, …).
   */
  flows?: { httpPort: number; env?: NodeJS.ProcessEnv };
  /** A part exited while the system was running (not through `stop`). */
  onPartExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface UnitProcess {
  id: string;
  password: string;
  site: (typeof HARBIN_SITES)[number];
  /** The agent process running now (a getter: a slot switch starts a new one). */
  readonly child: ChildProcess;
  /** The unit's A/B slots folder. */
  slotsDir: string;
}

export interface RunningSystem {
  mqttPort: number;
  httpPort: number;
  gatewayHttpPort: number;
  credentialsFile: string;
  /** The demo release signing key (never in the repository) and the trusted-keys file fleet and units are given. */
  releaseKeys: ReleaseKeys;
  /** Where the units' factory release is kept (`<releasesDir>/0.1.0`), and a maintainer's releases go. */
  releasesDir: string;
  units: UnitProcess[];
  fleetPassword: string;
  /** The gateway password of the `flows` service account Node-RED's unit nodes log in with. */
  flowsPassword: string;
  /** Node-RED, when `flows` was asked for; `start` runs it again after it stopped or was killed. */
  flows?: FlowsPart;
  startUnit(index: number, passwordOverride?: string): Promise<UnitProcess>;
  stop(): Promise<void>;
}

export interface FlowsPart {
  httpPort: number;
  child: ChildProcess;
  /** The admin password and inbound token made on this data dir's first start (shown once). */
  generated: { adminPassword?: string; inboundToken?: string };
  start(): Promise<FlowsPart>;
}

interface Ready {
  type: 'ready';
  [k: string]: unknown;
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  // Before anything in the dir is touched: a second run would rewrite the first's credentials.
  const unlock = lockDataDir(dataDir);
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    // Units first so their last wills reach a live gateway, then the fleet, then the gateway.
    for (const c of [...children].reverse()) await stopChild(c);
    unlock();
  };
  const watch = (name: string, child: ChildProcess) =>
    child.once('exit', (code, signal) => {
      if (!stopping) opts.onPartExit?.(name, code, signal);
    });

  try {
    const unitSecrets = Array.from({ length: opts.units }, (_, i) => ({ id: unitIdFor(i), password: newSecret() }));
    const fleetPassword = newSecret();
    const flowsPassword = newSecret();
    const credentialsFile = join(dataDir, 'gateway', 'credentials.json');
    await writeCredentials(credentialsFile, unitSecrets, fleetPassword, flowsPassword);

    const releaseKeys = demoReleaseKeys(dataDir);
    const releasesDir = join(dataDir, 'releases');
    // Built when the first unit starts (and only if the checkout changed since it was kept).
    let seed: Promise<SeedRelease> | undefined;

    const gw = await spawnPartWithChild('gateway', 'gateway/src/main.ts', opts, children, {
      SHOUWANG_GATEWAY_MQTT_PORT: String(opts.mqttPort),
      SHOUWANG_GATEWAY_HTTP_PORT: String(opts.gatewayHttpPort),
      SHOUWANG_GATEWAY_AUTH_CREDENTIALS_FILE: credentialsFile,
      SHOUWANG_GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
      ...(opts.influxUrl ? { SHOUWANG_GATEWAY_INFLUX_URL: opts.influxUrl } : {}),
    });
    const mqttPort = Number(gw.ready.mqttPort);
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;

    const fleet = await spawnPartWithChild('fleet', 'fleet/src/main.ts', opts, children, {
      SHOUWANG_FLEET_HTTP_PORT: String(opts.httpPort),
      SHOUWANG_FLEET_MQTT_URL: mqttUrl,
      SHOUWANG_FLEET_MQTT_USERNAME: 'fleet',
      SHOUWANG_FLEET_MQTT_PASSWORD: fleetPassword,
      SHOUWANG_FLEET_DATA_DIR: join(dataDir, 'fleet'),
      ...(opts.adminToken
        ? { SHOUWANG_FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN: opts.adminToken, SHOUWANG_FLEET_REGISTRY_CREDENTIALS_FILE: credentialsFile }
        : {}),
      ...(opts.influxUrl ? { SHOUWANG_FLEET_HISTORY_INFLUX_URL: opts.influxUrl } : {}),
      SHOUWANG_FLEET_OTA_TRUSTED_KEYS_FILE: releaseKeys.trustedKeys,
      // The units' clocks run faster: the fleet keeps step, or it would judge their promises in slow motion.
      ...(opts.timeScale ? { SHOUWANG_FLEET_TIME_SCALE: String(opts.timeScale) } : {}),
    });

    const api = `http://127.0.0.1:${Number(fleet.ready.httpPort)}`;
    const startUnit = async (index: number, passwordOverride?: string): Promise<UnitProcess> => {
      const id = unitIdFor(index);
      const site = HARBIN_SITES[index % HARBIN_SITES.length] as (typeof HARBIN_SITES)[number];
      const password =
        passwordOverride ??
        (opts.adminToken ? await provisionUnit(api, opts.adminToken, id, site) : (unitSecrets[index]?.password ?? newSecret()));
      const env: NodeJS.ProcessEnv = {
        SHOUWANG_DEVICE_UNIT_ID: id,
        SHOUWANG_DEVICE_MODE: 'sim',
        SHOUWANG_DEVICE_MQTT_URL: mqttUrl,
        SHOUWANG_DEVICE_MQTT_PASSWORD: password,
        SHOUWANG_DEVICE_SIM_LAT: String(site.lat),
        SHOUWANG_DEVICE_SIM_LON: String(site.lon),
        SHOUWANG_DEVICE_SITE_LAT: String(site.lat),
        SHOUWANG_DEVICE_SITE_LON: String(site.lon),
        SHOUWANG_DEVICE_DATA_DIR: join(dataDir, 'units', id),
        SHOUWANG_DEVICE_OTA_TRUSTED_KEYS: releaseKeys.trustedKeys,
        // The shipped stock talk-down messages, as install.sh puts them on a unit.
        SHOUWANG_DEVICE_VIDEO_STOCK_DIR: join(ROOT, 'device', 'stock'),
      };
      if (opts.scenario) env.SHOUWANG_DEVICE_SIM_SCENARIO = opts.scenario;
      if (opts.timeScale) env.SHOUWANG_DEVICE_SIM_TIME_SCALE = String(opts.timeScale);
      const slotsDir = join(dataDir, 'units', id, 'slots');
      seed ??= seedRelease(releasesDir, releaseKeys);
      prepareSlots(slotsDir, await seed);
      env.SHOUWANG_DEVICE_OTA_SLOTS_DIR = slotsDir;
      const launch = () => {
        selectBoot(slotsDir);
        return spawnPartWithChild(id, join(slotsDir, 'current', BUNDLE_FILE), opts, children, env);
      };
      let child = (await launch()).child;
      const supervise = (c: ChildProcess) =>
        c.once('exit', (code, signal) => {
          if (stopping) return;
          // Started again: an agent ending for the launcher (exit 0: a slot switch, a failed health
          // check) or a new release on trial that crashed. Killed from outside (a power cut a test
          // stages, a person) or crashed on its good slot: gone, as any part.
          if (signal === null && (code === 0 || readBootState(slotsDir).trial)) return void setTimeout(relaunch, UNIT_RESTART_MS);
          opts.onPartExit?.(id, code, signal);
        });
      const relaunch = (): void => {
        if (stopping) return;
        launch().then(
          (started) => {
            child = started.child;
            supervise(child);
          },
          (err: unknown) => {
            if (stopping) return;
            // A new release that cannot start: the launcher counts its boots and goes back to the
            // previous slot. Without a trial open the good slot itself fails: a real failure.
            if (readBootState(slotsDir).trial) return void setTimeout(relaunch, UNIT_RESTART_MS);
            opts.onLog?.(id, (err as Error).message);
            opts.onPartExit?.(id, 1, null);
          },
        );
      };
      supervise(child);
      return {
        id,
        password,
        site,
        slotsDir,
        get child() {
          return child;
        },
      };
    };

    let flows: FlowsPart | undefined;
    if (opts.flows) {
      if (!opts.adminToken) throw new Error('flows need an admin token to make their fleet token');
      const flowsToken = await makeToken(api, opts.adminToken, 'flows', 'node-red');
      const { httpPort, env } = opts.flows;
      const startFlows = async (): Promise<FlowsPart> => {
        const { ready, child } = await spawnPartWithChild('flows', 'flows/src/server.ts', opts, children, {
          ...env,
          SHOUWANG_FLOWS_DATA_DIR: join(dataDir, 'flows'),
          SHOUWANG_FLOWS_HTTP_PORT: String(flows?.httpPort ?? httpPort),
          SHOUWANG_FLOWS_FLEET_URL: api,
          SHOUWANG_FLOWS_FLEET_TOKEN: flowsToken,
          SHOUWANG_FLOWS_MQTT_URL: mqttUrl,
          SHOUWANG_FLOWS_MQTT_USERNAME: 'flows',
          SHOUWANG_FLOWS_MQTT_PASSWORD: flowsPassword,
        });
        watch('flows', child);
        flows = { httpPort: Number(ready.httpPort), child, generated: ready.generated as FlowsPart['generated'], start: startFlows };
        return flows;
      };
      await startFlows();
    }

    const units: UnitProcess[] = [];
    for (let i = 0; i < opts.units; i++) units.push(await startUnit(i));
    watch('gateway', gw.child);
    watch('fleet', fleet.child);

    return {
      mqttPort,
      httpPort: Number(fleet.ready.httpPort),
      gatewayHttpPort: Number(gw.ready.httpPort),
      credentialsFile,
      releaseKeys,
      releasesDir,
      units,
      fleetPassword,
      flowsPassword,
      // A getter: a restarted Node-RED is a new child.
      get flows() {
        return flows;
      },
      startUnit,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function makeToken(api: string, adminToken: string, role: string, name: string): Promise<string> {
  const res = await fetch(`${api}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role, name }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: unknown };
  if (res.status !== 201 || typeof body.token !== 'string') throw new Error(`a ${role} token: the fleet answered ${res.status}`);
  return body.token;
}

export interface ReleaseKeys {
  keyId: string;
  privateKey: string;
  trustedKeys: string;
}

/**
 * A demo release signing key under `<dataDir>/release-keys`, made once by the maintainers' own tool
 * (`./dev release keygen`), so a release can be built, signed and published to the local system.
 */
function demoReleaseKeys(dataDir: string): ReleaseKeys {
  const dir = join(dataDir, 'release-keys');
  const keys = { keyId: 'demo', privateKey: join(dir, 'demo.pem'), trustedKeys: join(dir, 'trusted-keys.json') };
  if (!existsSync(keys.privateKey)) {
    rmSync(keys.trustedKeys, { force: true });
    const args = ['keygen', '--id', keys.keyId, '--out', dir, '--trusted', keys.trustedKeys];
    execFileSync(process.execPath, [join(ROOT, 'device/release/cli.ts'), ...args], { stdio: 'ignore' });
  }
  return keys;
}

async function writeCredentials(
  file: string,
  units: { id: string; password: string }[],
  fleetPassword: string,
  flowsPassword: string,
): Promise<void> {
  const body = {
    units: Object.fromEntries(
      await Promise.all(units.map(async (u) => [u.id, await hashSecret(u.password, MACHINE_SECRET_COST)] as const)),
    ),
    services: {
      fleet: { hash: await hashSecret(fleetPassword, MACHINE_SECRET_COST), role: 'service' },
      flows: { hash: await hashSecret(flowsPassword, MACHINE_SECRET_COST), role: 'service' },
    },
  };
  await mkdir(join(file, '..'), { recursive: true });
  // Temp file + rename: the gateway watches this file and must never read half of it.
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(body, null, 2), { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Takes `<dataDir>/run.lock` (O_EXCL) for this process, or refuses naming the live process that
 * holds it; a lock left by a process that no longer exists is taken over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'run.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const holder = readHolder(file);
    if (holder && alive(holder.pid)) {
      throw new Error(
        `data dir ${dataDir} is in use by process ${holder.pid} (running since ${holder.since}); stop that run or give another --data-dir`,
      );
    }
    unlinkSync(file);
  }
}

function readHolder(file: string): { pid: number; since: string } | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; since?: unknown };
    return typeof h.pid === 'number' ? { pid: h.pid, since: String(h.since) } : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** RestartSec: 5 s on a unit; short here, the demo has no modem to settle. */
const UNIT_RESTART_MS = 500;

function spawnPartWithChild(
  name: string,
  entry: string,
  opts: SystemOptions,
  children: ChildProcess[],
  env: NodeJS.ProcessEnv,
): Promise<{ ready: Ready; child: ChildProcess }> {
  const child = fork(resolve(ROOT, entry), [], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  // The last FATAL a part logged is the reason to give if it dies before saying why.
  let fatal: string | undefined;
  for (const stream of [child.stdout, child.stderr])
    pipeLines(stream, (line) => {
      fatal = fatalReason(line) ?? fatal;
      opts.onLog?.(name, line);
    });
  return new Promise((resolvePromise, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`${name} failed to start: ${fatal ?? `exited before ready (code ${code}, signal ${signal})`}`));
    child.once('exit', onExit);
    child.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null) return;
      const msg = m as { type?: unknown; reason?: unknown };
      if (msg.type === 'failed') {
        child.off('exit', onExit);
        reject(new Error(`${name} failed to start: ${String(msg.reason)}`));
      } else if (msg.type === 'ready') {
        child.off('exit', onExit);
        resolvePromise({ ready: m as Ready, child });
      }
    });
  });
}

function fatalReason(line: string): string | undefined {
  try {
    const l = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    return l.level === 60 ? (l.err?.message ?? l.msg) : undefined;
  } catch {
    return undefined;
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
    }
  });
}

/** SIGTERM, then SIGKILL if the child has not exited within 6 s (runService forces exit at 5 s). */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 6000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}
