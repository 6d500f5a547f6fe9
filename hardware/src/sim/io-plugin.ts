import { EventEmitter } from 'node:events';
import type { BoardDefinition } from '../boards.ts';
import type { Clock, IoPlugin } from '../ports.ts';
import { busRegister, shuntRegister } from './ina.ts';

/**
 * A johnny-five IO plugin (github.com/rwaldron/io-plugins) answering from the simulator: I²C
 * register reads of the power monitors, digital tamper and motion pins, analog tilt and
 * temperature through a 10-bit ADC. Reports arrive on the injected clock like a real board's.
 */
export interface IoTruth {
  /** Bus volts and current (A, + into the load side) per monitor name. */
  monitors: Record<string, { busV: number; currentA: number }>;
  tamper: boolean;
  motion: boolean;
  tiltDeg: number;
  enclosureTempC: number;
}

const MODES = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4, I2C: 6 } as const;
const DIGITAL_PINS = 28;
const ANALOG_PINS = ['A0', 'A1'];

export class SimIoPlugin extends EventEmitter implements IoPlugin {
  readonly name = 'shouwang-sim';
  readonly MODES = MODES;
  readonly pins: { supportedModes: number[]; mode?: number; value?: number; report?: number; analogChannel?: number }[];
  readonly analogPins: number[];
  isReady = false;
  /** Bus transactions the simulator refused to answer (fault injection: a frozen chip). */
  silentAddresses = new Set<number>();
  readonly #board: BoardDefinition;
  readonly #truth: () => IoTruth;
  readonly #clock: Clock;
  readonly #timers: unknown[] = [];

  constructor(board: BoardDefinition, truth: () => IoTruth, clock: Clock) {
    super();
    this.#board = board;
    this.#truth = truth;
    this.#clock = clock;
    this.pins = [
      ...Array.from({ length: DIGITAL_PINS }, () => ({ supportedModes: [0, 1, 3, 4, 6], analogChannel: 127 })),
      ...ANALOG_PINS.map((_, i) => ({ supportedModes: [0, 2], analogChannel: i })),
    ];
    this.analogPins = ANALOG_PINS.map((_, i) => DIGITAL_PINS + i);
    // io-plugins: `connect` then `ready`, asynchronously, as a real board does after opening.
    queueMicrotask(() => {
      this.emit('connect');
      this.isReady = true;
      this.emit('ready');
    });
  }

  normalize(pin: number | string): number {
    if (typeof pin === 'string') {
      const a = ANALOG_PINS.indexOf(pin.toUpperCase());
      if (a >= 0) return DIGITAL_PINS + a;
      return Number.parseInt(pin, 10);
    }
    return pin;
  }

  pinMode(pin: number | string, mode: number): this {
    const p = this.pins[this.normalize(pin)];
    if (p) p.mode = mode;
    return this;
  }

  digitalWrite(): this {
    return this;
  }

  digitalRead(pin: number | string, handler: (value: number) => void): void {
    const n = this.normalize(pin);
    this.#report(() => {
      const t = this.#truth();
      return n === this.#board.tamperPin ? Number(t.tamper) : n === this.#board.motionPin ? Number(t.motion) : 0;
    }, handler);
  }

  analogRead(pin: number | string, handler: (value: number) => void): void {
    const n = this.normalize(pin);
    this.#report(() => {
      const t = this.#truth();
      const spec =
        n === this.normalize(this.#board.tilt.pin)
          ? this.#board.tilt
          : n === this.normalize(this.#board.temperature.pin)
            ? this.#board.temperature
            : undefined;
      if (!spec) return 0;
      const physical = spec === this.#board.tilt ? t.tiltDeg : t.enclosureTempC;
      return Math.max(0, Math.min(1023, Math.round((physical - spec.offset) / spec.scale)));
    }, handler);
  }

  i2cConfig(): this {
    return this;
  }

  i2cWrite(): this {
    return this;
  }

  i2cReadOnce(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    const monitor = this.#board.monitors.find((m) => m.address === address);
    if (!monitor || this.silentAddresses.has(address)) return this; // no ACK on the bus: the driver's timeout speaks
    this.#clock.setTimeout(() => {
      const m = this.#truth().monitors[monitor.name] ?? { busV: 0, currentA: 0 };
      const bytes =
        register === 0x01
          ? shuntRegister(monitor.chip, m.currentA, monitor.shuntOhms)
          : register === 0x02
            ? busRegister(monitor.chip, m.busV)
            : [0, 0];
      handler(bytes.slice(0, bytesToRead));
    }, 1);
    return this;
  }

  i2cRead(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    this.#timers.push(this.#clock.setInterval(() => this.i2cReadOnce(address, register, bytesToRead, handler), 100));
    return this;
  }

  close(): void {
    for (const t of this.#timers) this.#clock.clearInterval(t);
    this.#timers.length = 0;
  }

  /** johnny-five expects reports to keep coming (firmata reports every 19 ms; 100 ms is ample here). */
  #report(read: () => number, handler: (value: number) => void): void {
    this.#timers.push(this.#clock.setInterval(() => handler(read()), 100));
    this.#clock.setTimeout(() => handler(read()), 1);
  }
}
