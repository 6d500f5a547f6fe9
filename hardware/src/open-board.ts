import type { BoardDefinition } from './boards/index.ts';
import type { CameraSource, IoPlugin, SerialLink, Speaker, UplinkPath } from './ports.ts';
import { openSimBoard, type SimControl, type SimOptions } from './sim/sim-board.ts';
import { alsaSpeaker } from './speaker.ts';

/**
 * One entry point for the agent: the same wire-level handles whether the board is real or
 * simulated, so the drivers above never know which.
 */
export interface BoardHandles {
  board: BoardDefinition;
  gps: SerialLink;
  modem: SerialLink;
  /** The IO plugin, or why it could not be loaded (the rest of the board still works without it). */
  io: IoPlugin | Error;
  camera: CameraSource;
  /** The loudspeaker for talk-down; absent on a board without one. */
  speaker?: Speaker;
  /** The path the agent's MQTT client dials: the real network, or the simulator's shaped link. */
  uplink(target: { host: string; port: number }): Promise<UplinkPath>;
  sim?: SimControl;
  close(): Promise<void>;
}

/**
 * Real mode, optionally with some parts simulated (`simulate`: a real GPS and modem on their
 * serial ports, the rest of the board from the simulator), for bench work and a first unit.
 */
export type OpenBoardOptions = { mode: 'real'; simulate?: { io?: SimOptions } } | { mode: 'sim'; sim: SimOptions };

/** A wholly simulated board always has its IO plugin and its control handle. */
export type SimBoardHandles = BoardHandles & { io: IoPlugin; sim: SimControl };

export async function openBoard(board: BoardDefinition, options: Extract<OpenBoardOptions, { mode: 'sim' }>): Promise<SimBoardHandles>;
export async function openBoard(board: BoardDefinition, options: OpenBoardOptions): Promise<BoardHandles>;
export async function openBoard(board: BoardDefinition, options: OpenBoardOptions): Promise<BoardHandles> {
  if (options.mode === 'sim') return { board, ...openSimBoard(board, options.sim) };
  return openRealBoard(board, options.simulate?.io);
}

async function openRealBoard(board: BoardDefinition, simIo: SimOptions | undefined): Promise<BoardHandles> {
  const gps = await realSerial(board.gps);
  const modem = await realSerial(board.modem);
  const sim = simIo ? openSimBoard(board, simIo) : undefined;
  const io = sim ? sim.io : await loadIoPlugin(board).catch((err: unknown) => err as Error);
  return {
    board,
    gps,
    modem,
    io,
    camera: sim ? sim.camera : realCamera(board),
    ...(sim ? { speaker: sim.speaker } : board.camera.speaker ? { speaker: alsaSpeaker(board.camera.speaker) } : {}),
    uplink: async (target) => target,
    ...(sim ? { sim: sim.sim } : {}),
    async close() {
      await Promise.all([gps.close(), modem.close()]);
      await sim?.close();
    },
  };
}

function realCamera(board: BoardDefinition): CameraSource {
  const mic = board.camera.microphone;
  return {
    ffmpegInput: ['-f', 'v4l2', '-i', board.camera.device],
    ...(mic ? { audioInput: ['-f', 'alsa', '-ac', '1', '-i', mic] } : {}),
    encoder: board.h264Encoder ?? 'libx264',
  };
}

/**
 * A port on the serialport package, opened on demand. Never SerialPort.list(): it crashes the
 * process where udevadm is missing. Paths are board data, overridden by the unit's config.
 */
async function realSerial(s: { path: string; baudRate: number }): Promise<SerialLink> {
  const { SerialPort } = await import('serialport');
  let current: InstanceType<typeof SerialPort> | undefined;
  return {
    ...s,
    get stream() {
      if (!current) throw new Error(`${s.path} has not been opened`);
      return current;
    },
    open: () =>
      new Promise((resolve, reject) => {
        const port = new SerialPort({ path: s.path, baudRate: s.baudRate, autoOpen: false });
        port.open((err) => {
          if (err) return reject(new Error(`cannot open ${s.path}: ${err.message}`));
          current = port;
          resolve(port);
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        const port = current;
        if (!port?.isOpen) return resolve();
        port.close(() => resolve());
      }),
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
