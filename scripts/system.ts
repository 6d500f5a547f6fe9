import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSecret, MACHINE_SECRET_COST, newSecret } from '@shouwang/runtime/secrets';
import { HARBIN_SITES, unitIdFor } from './sites.ts';

/**
 * Starts the whole system as separate processes, the way it runs in the field: a gateway, the
 * fleet manager and N simulated units, each a real agent process on the hardware simulator.
 * Readiness comes from each child's IPC `ready` message (runtime's runService), never from sleeps.
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
}

export interface UnitProcess {
  id: string;
  password: string;
  site: (typeof HARBIN_SITES)[number];
  child: ChildProcess;
}

export interface RunningSystem {
  mqttPort: number;
  httpPort: number;
  gatewayHttpPort: number;
  credentialsFile: string;
  units: UnitProcess[];
  fleetPassword: string;
  startUnit(index: number, passwordOverride?: string): Promise<UnitProcess>;
  stop(): Promise<void>;
}

interface Ready {
  type: 'ready';
  [k: string]: unknown;
}

export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true });
  const children: ChildProcess[] = [];
  const stopAll = async () => {
    // Units first so their last wills reach a live gateway, then the fleet, then the gateway.
    for (const c of [...children].reverse()) await stopChild(c);
  };

  try {
    const unitSecrets = Array.from({ length: opts.units }, (_, i) => ({ id: unitIdFor(i), password: newSecret() }));
    const fleetPassword = newSecret();
    const credentialsFile = join(dataDir, 'gateway', 'credentials.json');
    await writeCredentials(credentialsFile, unitSecrets, fleetPassword);

    const gw = await spawnPart('gateway', 'gateway/src/main.ts', opts, children, {
      SHOUWANG_GATEWAY_MQTT_PORT: String(opts.mqttPort),
      SHOUWANG_GATEWAY_HTTP_PORT: String(opts.gatewayHttpPort),
      SHOUWANG_GATEWAY_AUTH_CREDENTIALS_FILE: credentialsFile,
      SHOUWANG_GATEWAY_DATA_DIR: join(dataDir, 'gateway'),
      ...(opts.influxUrl ? { SHOUWANG_GATEWAY_INFLUX_URL: opts.influxUrl } : {}),
    });
    const mqttPort = Number(gw.mqttPort);
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;

    const fleet = await spawnPart('fleet', 'fleet/src/main.ts', opts, children, {
      SHOUWANG_FLEET_HTTP_PORT: String(opts.httpPort),
      SHOUWANG_FLEET_MQTT_URL: mqttUrl,
      SHOUWANG_FLEET_MQTT_USERNAME: 'fleet',
      SHOUWANG_FLEET_MQTT_PASSWORD: fleetPassword,
      SHOUWANG_FLEET_DATA_DIR: join(dataDir, 'fleet'),
      ...(opts.influxUrl ? { SHOUWANG_FLEET_HISTORY_INFLUX_URL: opts.influxUrl } : {}),
    });

    const startUnit = async (index: number, passwordOverride?: string): Promise<UnitProcess> => {
      const id = unitIdFor(index);
      const password = passwordOverride ?? unitSecrets[index]?.password ?? newSecret();
      const site = HARBIN_SITES[index % HARBIN_SITES.length] as (typeof HARBIN_SITES)[number];
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
      };
      if (opts.scenario) env.SHOUWANG_DEVICE_SIM_SCENARIO = opts.scenario;
      if (opts.timeScale) env.SHOUWANG_DEVICE_SIM_TIME_SCALE = String(opts.timeScale);
      const { child } = await spawnPartWithChild(id, 'device/src/main.ts', opts, children, env);
      return { id, password, site, child };
    };

    const units: UnitProcess[] = [];
    for (let i = 0; i < opts.units; i++) units.push(await startUnit(i));

    return {
      mqttPort,
      httpPort: Number(fleet.httpPort),
      gatewayHttpPort: Number(gw.httpPort),
      credentialsFile,
      units,
      fleetPassword,
      startUnit,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function writeCredentials(file: string, units: { id: string; password: string }[], fleetPassword: string): Promise<void> {
  const body = {
    units: Object.fromEntries(
      await Promise.all(units.map(async (u) => [u.id, await hashSecret(u.password, MACHINE_SECRET_COST)] as const)),
    ),
    services: { fleet: { hash: await hashSecret(fleetPassword, MACHINE_SECRET_COST), role: 'service' } },
  };
  await mkdir(join(file, '..'), { recursive: true });
  // Temp file + rename: the gateway watches this file and must never read half of it.
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(body, null, 2), { mode: 0o600 });
  await rename(tmp, file);
}

async function spawnPart(
  name: string,
  entry: string,
  opts: SystemOptions,
  children: ChildProcess[],
  env: NodeJS.ProcessEnv,
): Promise<Ready> {
  return (await spawnPartWithChild(name, entry, opts, children, env)).ready;
}

function spawnPartWithChild(
  name: string,
  entry: string,
  opts: SystemOptions,
  children: ChildProcess[],
  env: NodeJS.ProcessEnv,
): Promise<{ ready: Ready; child: ChildProcess }> {
  const child = fork(join(ROOT, entry), [], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  for (const stream of [child.stdout, child.stderr]) pipeLines(stream, (line) => opts.onLog?.(name, line));
  return new Promise((resolvePromise, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`${name} exited before ready (code ${code}, signal ${signal})`));
    child.once('exit', onExit);
    child.on('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as Ready).type === 'ready') {
        child.off('exit', onExit);
        resolvePromise({ ready: m as Ready, child });
      }
    });
  });
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
