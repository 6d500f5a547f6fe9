import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/**
 * The seams between the agent and the board. They sit at the wire (bytes on a serial line,
 * pin and I²C reads through a johnny-five IO plugin, a TCP path to the gateway), so the
 * device's real drivers run unchanged against the simulator.
 */

/** Time, injectable so tests can run a winter in seconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/**
 * A serial device (GPS NMEA out, modem AT in/out). `open` opens the port — again after it closed
 * (a USB modem re-enumerating, a receiver browning out) — and rejects, naming the path, when the
 * device cannot be opened (no such device, permission). `stream` is the stream `open` last gave.
 */
export interface SerialLink {
  readonly path: string;
  readonly baudRate: number;
  readonly stream: Duplex;
  open(): Promise<Duplex>;
  /**
   * Closes the port if it is open (its stream emits `close`); `open` opens it again. Not the
   * stream's `destroy()`: a SerialPort destroyed without closing keeps its file and lock.
   */
  close(): Promise<void>;
}

/**
 * A johnny-five IO plugin (https://github.com/rwaldron/io-plugins): emits `connect` then
 * `ready`, exposes `pins`, `MODES`, `analogPins`, and implements the pin and I²C calls the
 * board's sensors need. Kept structural so the real Linux plugin and the simulator both fit.
 */
export interface IoPlugin extends EventEmitter {
  readonly isReady: boolean;
  readonly MODES: Readonly<Record<string, number>>;
  readonly pins: ReadonlyArray<{ supportedModes: number[]; mode?: number; value?: number; report?: number; analogChannel?: number }>;
  readonly analogPins: readonly number[];
  normalize(pin: number | string): number;
  pinMode(pin: number | string, mode: number): this;
  digitalRead(pin: number | string, handler: (value: number) => void): void;
  analogRead(pin: number | string, handler: (value: number) => void): void;
  i2cConfig(options: unknown): this;
  i2cRead(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this;
  i2cReadOnce(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this;
  i2cWrite(address: number, register: number, data: number | number[]): this;
}

/**
 * Where the camera's frames and the microphone's sound come from, as ffmpeg input arguments (a
 * V4L2 device and an ALSA capture device, or ffmpeg's test sources), and which H.264 encoder the
 * board has: its hardware encoder where the SoC has one, else libx264.
 */
export interface CameraSource {
  readonly ffmpegInput: readonly string[];
  /** The microphone; absent when the unit has none (video is recorded without sound). */
  readonly audioInput?: readonly string[];
  readonly encoder: H264Encoder;
}

export type H264Encoder = 'h264_v4l2m2m' | 'libx264';

/** The unit's loudspeaker: plays an audio file (any format ffmpeg reads) to its end. */
export interface Speaker {
  /** Resolves when the sound has been played; rejects naming why it could not be (no device, a file ffmpeg cannot decode). */
  play(file: string): Promise<void>;
}

/** The network path from the agent to the gateway; the simulator shapes it (bandwidth, latency, outages). */
export interface UplinkPath {
  /** host:port the agent's MQTT client dials. */
  readonly host: string;
  readonly port: number;
}
