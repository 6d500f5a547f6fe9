import type { BoardDefinition } from './boards/index.ts';
import type { CameraSource, IoPlugin, SerialLink, UplinkPath } from './ports.ts';
import { openSimBoard, type SimControl, type SimOptions } from './sim/sim-board.ts';

/**
 * One entry point for the agent: the same wire-level handles whether the board is real or
 * simulated, so the drivers above never know which.
 */
export interface BoardHandles {
  board: BoardDefinition;
  gps: SerialLink;
  modem: SerialLink;
  io: IoPlugin;
  camera: CameraSource;
  /** The path the agent's MQTT client dials: the real network, or the simulator's shaped link. */
  uplink(target: { host: string; port: number }): Promise<UplinkPath>;
  sim?: SimControl;
  close(): Promise<void>;
}

export type OpenBoardOptions = { mode: 'real' } | { mode: 'sim'; sim: SimOptions };

export async function openBoard(board: BoardDefinition, options: OpenBoardOptions): Promise<BoardHandles> {
  if (options.mode === 'sim') return { board, ...openSimBoard(board, options.sim) };
  return openRealBoard(board);
}

async function openRealBoard(board: BoardDefinition): Promise<BoardHandles> {
  // Never SerialPort.list(): it crashes the process where udevadm is missing. Paths are board data.
  const { SerialPort } = await import('serialport');
  const open = (s: { path: string; baudRate: number }): SerialLink => ({
    ...s,
    stream: new SerialPort({ path: s.path, baudRate: s.baudRate }),
  });
  const io = await loadIoPlugin(board);
  const gps = open(board.gps);
  const modem = open(board.modem);
  return {
    board,
    gps,
    modem,
    io,
    camera: { ffmpegInput: ['-f', 'v4l2', '-i', board.camera.device] },
    uplink: async (target) => target,
    async close() {
      for (const l of [gps, modem]) l.stream.destroy();
    },
  };
}

/**
 * The board's johnny-five IO plugin, by dynamic import so the Pi-only package stays optional
 * (raspi-io will not even install on x64). A missing package is a deployment error with a fix.
 */
async function loadIoPlugin(board: BoardDefinition): Promise<IoPlugin> {
  const { package: pkg, export: name } = board.ioPlugin;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pkg)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`IO plugin "${pkg}" for ${board.name} is not installed (on the unit: npm install ${pkg}): ${(err as Error).message}`);
  }
  // A CommonJS package arrives with its exports under `default`.
  const Plugin = mod[name] ?? (mod.default as Record<string, unknown> | undefined)?.[name];
  if (typeof Plugin !== 'function') throw new Error(`IO plugin "${pkg}" has no export "${name}" (board ${board.id})`);
  return new (Plugin as new () => IoPlugin)();
}
