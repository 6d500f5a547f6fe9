/**
 * Harness vocabulary: `forkAgent(entry, o)` starts the agent as a process of its own on the
 * simulator (the `.ts` entry or a built bundle) and resolves once it reports ready. `deployed`
 * starts it as systemd starts a unit: the node flags and environment of
 * deploy/shouwang-device.service, so a test or bench cannot drift from what units run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readServiceUnit } from '@shouwang/testkit';

const SERVICE = fileURLToPath(new URL('../deploy/shouwang-device.service', import.meta.url));

export const AGENT_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** The unit's node flags and non-agent environment (glibc tunables, NODE_ENV). */
export const deployedUnit = () => readServiceUnit(SERVICE, 'SHOUWANG_');

export interface AgentProcessOptions {
  unitId: string;
  url: string;
  dataDir: string;
  /** More SHOUWANG_DEVICE_* settings. */
  env?: Record<string, string>;
  deployed?: boolean;
  logLevel?: string;
  /** 'pipe' to read the agent's JSON log lines from `child.stdout`. */
  stdout?: 'pipe' | 'ignore';
}

export function forkAgent(entry: string, o: AgentProcessOptions): Promise<ChildProcess> {
  const unit = o.deployed ? deployedUnit() : { flags: [], env: {} };
  const child = fork(entry, ['--sim'], {
    execArgv: unit.flags,
    env: {
      ...process.env,
      ...unit.env,
      LOG_LEVEL: o.logLevel ?? 'silent',
      SHOUWANG_DEVICE_UNIT_ID: o.unitId,
      SHOUWANG_DEVICE_MQTT_URL: o.url,
      SHOUWANG_DEVICE_DATA_DIR: o.dataDir,
      // The simulator's control plane is a dev tool (an HTTP server, ~5 MB) that units never run.
      SHOUWANG_DEVICE_SIM_CONTROL: 'false',
      // ffmpeg records only where a test or bench asks for it (o.env): an encoder per unit would load a 2-core machine.
      SHOUWANG_DEVICE_VIDEO_ENABLED: 'false',
      ...o.env,
    },
    stdio: ['ignore', o.stdout ?? 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`agent exited before ready (${code ?? signal})`)));
    child.on('message', (m) => {
      if ((m as { type?: string }).type === 'ready') resolve(child);
    });
  });
}
