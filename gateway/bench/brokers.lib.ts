/**
 * Brokers for the gateway benches, each in its own process on a free loopback port:
 * Debian's Mosquitto (the baseline), a bare Aedes (the pipeline off) and our gateway (on).
 */
import { fork, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashSecret, MACHINE_SECRET_COST } from '@shouwang/runtime/secrets';
import { freePort, readServiceUnit, type ServiceUnit, stopper } from '@shouwang/testkit';

export type { BenchRow as Row } from '@shouwang/runtime';

export interface RunningBroker {
  name: string;
  port: number;
  pid: number;
  /** Stops the process and starts it again on the same port and data (ours only). */
  restart(): Promise<RunningBroker>;
  /** Username/password to use, or none for anonymous brokers. */
  auth: (user: string) => { username?: string; password?: string };
  stop(): Promise<void>;
}

async function waitPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${port}`);
}

export async function startMosquitto(): Promise<RunningBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'mosq-'));
  const port = await freePort();
  // In-flight limit lifted as our own broker has none; otherwise QoS 1 compares a window of 20.
  // Nagle off, as our gateway has it: with it on, Mosquitto's PUBACKs wait on delayed ACKs and
  // its QoS 1 burst rate halves (33–41k against 65–76k msg/s here), a baseline flattering us.
  await writeFile(
    join(dir, 'm.conf'),
    `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 100000\npersistence false\nset_tcp_nodelay true\n`,
  );
  const child = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
  await waitPort(port);
  return { name: 'mosquitto', port, pid: child.pid as number, auth: () => ({}), stop: stopper(child, dir), restart: notOurs };
}

export async function startBareAedes(): Promise<RunningBroker> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL('./bare-aedes.lib.ts', import.meta.url)), [String(port)], { stdio: 'ignore' });
  await waitPort(port);
  return { name: 'aedes (pipeline off)', port, pid: child.pid as number, auth: () => ({}), stop: stopper(child), restart: notOurs };
}

async function notOurs(): Promise<RunningBroker> {
  throw new Error('only our gateway restarts in place');
}

/** How the gateway runs in the field: the node flags and environment of its systemd unit. */
export const DEPLOYED = readServiceUnit(fileURLToPath(new URL('../deploy/shouwang-gateway.service', import.meta.url)), 'SHOUWANG_');
/** Node's own defaults, for comparison. */
export const NODE_DEFAULTS: ServiceUnit = { flags: [], env: {} };

/**
 * Our gateway as it runs in the field; units get credentials of the cost the registry issues,
 * the `fleet` service `serviceHash` (the same by default).
 */
export async function startGatewayProcess(units: string[], node: ServiceUnit = DEPLOYED, serviceHash?: string): Promise<RunningBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-bench-'));
  const port = await freePort();
  const httpPort = await freePort();
  const hash = await hashSecret('bench-secret', MACHINE_SECRET_COST);
  const file = join(dir, 'credentials.json');
  await writeFile(
    file,
    JSON.stringify({
      units: Object.fromEntries(units.map((u) => [u, hash])),
      services: { fleet: { hash: serviceHash ?? hash, role: 'service' } },
    }),
  );
  return launchGateway(dir, file, port, httpPort, node);
}

async function launchGateway(dir: string, file: string, port: number, httpPort: number, node: ServiceUnit): Promise<RunningBroker> {
  const child = fork(fileURLToPath(new URL('../src/main.ts', import.meta.url)), [], {
    execArgv: node.flags,
    stdio: 'ignore',
    env: {
      ...process.env,
      ...node.env,
      LOG_LEVEL: 'warn',
      SHOUWANG_GATEWAY_MQTT_PORT: String(port),
      SHOUWANG_GATEWAY_HTTP_PORT: String(httpPort),
      SHOUWANG_GATEWAY_DATA_DIR: dir,
      SHOUWANG_GATEWAY_AUTH_CREDENTIALS_FILE: file,
      SHOUWANG_GATEWAY_AUTH_MAX_FAILURES_PER_SOURCE: '1000000',
    },
  });
  await waitPort(port);
  return {
    name: 'gateway (auth+ACL+validation+ingest)',
    port,
    pid: child.pid as number,
    auth: (user) => ({ username: user, password: 'bench-secret' }),
    stop: stopper(child, dir),
    restart: async () => {
      await stopper(child)();
      return launchGateway(dir, file, port, httpPort, node);
    },
  };
}

export async function rssKb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
