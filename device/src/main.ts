/**
 * The agent's composition root: config → logger → board (real or simulated) → services.
 *   node device/src/main.ts [--sim]
 * Config: $SHOUWANG_DEVICE_CONFIG (JSON file) → SHOUWANG_DEVICE_* env → persisted remote
 * overrides (config-set) → flags; see device/README.md.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { type SimControlServer, startSimControlServer } from '@shouwang/hardware';
import { createLogger, loadConfig, runService } from '@shouwang/runtime';
import { DeviceConfig } from './config.ts';
import { writeFileAtomic } from './services/atomic-file.ts';
import { openDeviceBoard } from './services/board.ts';
import { ConfigStore } from './services/config-store.ts';
import { type RunningDevice, startDevice } from './services/device.ts';
import { createNotifier } from './services/sd-notify.ts';
import { useTimeZone } from './services/time-zone.ts';

const flags = process.argv.includes('--sim') ? { mode: 'sim' } : {};
const log = createLogger('device');

await runService(log, async () => {
  const first = loadConfig(DeviceConfig, { prefix: 'SHOUWANG_DEVICE', overrides: flags });
  const dataDir = first.dataDir ?? join('.data', 'device', first.unitId);
  const cfg = loadConfig(DeviceConfig, {
    prefix: 'SHOUWANG_DEVICE',
    overrides: { ...ConfigStore.load(join(dataDir, 'config-overrides.json')), ...flags, dataDir },
  });
  const unitLog = log.child({ unitId: cfg.unitId });
  const utcOffsetMin = useTimeZone(cfg.schedule.timezone);
  unitLog.info({ timezone: cfg.schedule.timezone, utcOffsetMin }, 'schedules run in local time');
  const board = await openDeviceBoard(cfg, unitLog);
  let device: RunningDevice | undefined;
  let restarting: Promise<void> | undefined;

  const restart = (why: 'restart' | 'reboot') => {
    if (why === 'reboot' && cfg.mode === 'real') {
      unitLog.warn('reboot requested');
      execFile('systemctl', ['reboot'], (err) => err && unitLog.error({ err }, 'reboot failed'));
      return;
    }
    // Restart in place: the same process closes and reopens everything, so it works under systemd and
    // under the dev orchestrator alike (a simulated board has no power to cycle from here).
    restarting ??= (async () => {
      unitLog.warn({ why }, 'restarting agent');
      await device?.close();
      device = await startDevice(cfg, board.device, unitLog, { restart, exit });
      restarting = undefined;
    })().catch((err: unknown) => {
      unitLog.fatal({ err }, 'restart failed; exiting for the supervisor to restart');
      process.exit(1);
    });
  };

  // A slot switch needs a new process: the launcher (boot-select) runs before it and picks the slot.
  const exit = () => {
    unitLog.warn('exiting for the supervisor to start the selected slot');
    void (async () => {
      await device?.close();
      await board.close();
      process.exit(0);
    })();
  };

  device = await startDevice(cfg, board.device, unitLog, { restart, exit });
  // The simulator lives in this process: its control plane (faults, truth) is how a demo or a
  // harness outside reaches it. Loopback only; the URL is left where `./dev sim` looks for it.
  let control: SimControlServer | undefined;
  if (board.handles.sim && cfg.sim.control) {
    control = await startSimControlServer(board.handles.sim, { port: cfg.sim.controlPort });
    writeFileAtomic(join(dataDir, 'sim-control.url'), `${control.url}\n`);
    unitLog.info({ url: control.url }, 'simulator control server listening');
  }
  const notifier = createNotifier(unitLog, () => device?.agent.healthy() ?? false);
  notifier.ready();

  return {
    info: { unitId: cfg.unitId, mode: cfg.mode, board: cfg.board, ...(control ? { simControl: control.url } : {}) },
    async close() {
      notifier.stopping();
      notifier.close();
      await control?.close();
      await restarting;
      await device?.close();
      await board.close();
    },
  };
});
