import type { BoardDefinition } from './boards.ts';
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
  let io: IoPlugin;
  try {
    const mod = (await import(board.ioPlugin)) as { default: new () => IoPlugin };
    io = new mod.default();
  } catch (err) {
    throw new Error(
      `IO plugin "${board.ioPlugin}" for ${board.name} is not installed (npm i ${board.ioPlugin} on the unit): ${(err as Error).message}`,
    );
  }
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
