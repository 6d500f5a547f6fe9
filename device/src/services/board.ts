import {
  type BoardDefinition,
  type BoardHandles,
  boardDefinition,
  type Clock,
  openBoard,
  SCENARIOS,
  type ScenarioName,
  scaledClock,
  systemClock,
  validateBoard,
} from '@shouwang/hardware';
import type { Logger } from 'pino';
import type { DeviceConfig } from '../config.ts';
import { LIFEPO4_4S } from '../domain/power.ts';
import type { DeviceBoard } from './device.ts';

/**
 * Opens the board the config names, real or simulated, and turns hardware's handles into what
 * the agent wires up. In sim mode the MQTT client dials the simulator's shaped link (bandwidth,
 * latency, outages of the configured link type) instead of the gateway directly.
 */
export interface OpenedBoard {
  device: DeviceBoard;
  handles: BoardHandles;
  close(): Promise<void>;
}

/** Test and bench hooks: a shared clock, and the simulated pack's starting charge. */
export interface OpenOptions {
  clock?: Clock;
  simSoc?: number;
}

/** The board definition with the unit's own ports: the config overrides each path and baud rate. */
export function boardWithPorts(cfg: DeviceConfig): BoardDefinition {
  const def = boardDefinition(cfg.board);
  const port = (base: { path: string; baudRate: number }, own: { path?: string; baudRate?: number }) => ({
    path: own.path ?? base.path,
    baudRate: own.baudRate ?? base.baudRate,
  });
  return validateBoard({ ...def, gps: port(def.gps, cfg.gps), modem: port(def.modem, cfg.modem) });
}

export async function openDeviceBoard(cfg: DeviceConfig, log: Logger, opts: OpenOptions = {}): Promise<OpenedBoard> {
  const def = boardWithPorts(cfg);
  const sim = cfg.mode === 'sim';
  const clock = opts.clock ?? (sim ? scaledClock(cfg.sim.timeScale) : systemClock);
  if ((sim || cfg.real.simulateIo) && !(cfg.sim.scenario in SCENARIOS)) {
    throw new Error(`unknown sim.scenario "${cfg.sim.scenario}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  const simOptions = {
    unitId: cfg.unitId,
    site: { lat: cfg.sim.lat, lon: cfg.sim.lon },
    scenario: cfg.sim.scenario as ScenarioName,
    link: cfg.sim.link,
    ...(cfg.sim.linkKbps === undefined ? {} : { linkBytesPerSecond: (cfg.sim.linkKbps * 1000) / 8 }),
    clock,
    ...(opts.simSoc === undefined ? {} : { soc: opts.simSoc }),
  };
  const handles = await openBoard(
    def,
    sim ? { mode: 'sim', sim: simOptions } : { mode: 'real', ...(cfg.real.simulateIo ? { simulate: { io: simOptions } } : {}) },
  );
  const target = new URL(cfg.mqtt.url);
  const path = await handles.uplink({ host: target.hostname, port: Number(target.port || 1883) });
  const mqttUrl = `${target.protocol}//${path.host}:${path.port}`;
  const profile = (sim ? cfg.sim.link : cfg.modem.profile) === 'satellite' ? 'satellite' : 'cellular';
  log.info(
    {
      board: def.id,
      mode: cfg.mode,
      mqttUrl,
      modem: profile,
      gps: cfg.gps.enabled ? `${def.gps.path} ${def.gps.baudRate} Bd` : 'off',
      modemPort: cfg.modem.enabled ? `${def.modem.path} ${def.modem.baudRate} Bd` : 'off',
      ...(sim || cfg.real.simulateIo
        ? { scenario: cfg.sim.scenario, timeScale: cfg.sim.timeScale, linkKbps: cfg.sim.linkKbps, simulated: sim ? 'all' : 'io, camera' }
        : {}),
    },
    'board open',
  );
  return {
    handles,
    device: {
      boardId: def.id,
      clock,
      ...(cfg.gps.enabled ? { gps: handles.gps } : {}),
      ...(cfg.modem.enabled ? { modem: handles.modem } : {}),
      ...(cfg.parts.io ? { io: handles.io } : {}),
      ...(cfg.parts.camera ? { camera: handles.camera } : {}),
      ...(handles.speaker ? { speaker: handles.speaker } : {}),
      sensors: def,
      modemProfile: profile,
      battery: { ...LIFEPO4_4S, capacityWh: def.battery.capacityWh },
      mqttUrl,
    },
    close: () => handles.close(),
  };
}
