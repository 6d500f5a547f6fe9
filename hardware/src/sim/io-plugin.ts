import { EventEmitter } from 'node:events';
import type { BoardDefinition } from '../boards/index.ts';
import type { Clock, IoPlugin } from '../ports.ts';
import { InaChip } from './ina.ts';

/**
 * A johnny-five IO plugin (github.com/rwaldron/io-plugins) answering from the simulator: I²C
 * register reads and writes of the power monitors, digital tamper and motion pins, analog tilt
 * and temperature through a 10-bit ADC. Reports arrive on the injected clock like a real board's:
 * digital pins on change (as Firmata reports them), analog pins every `reportMs`.
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
/**
 * A 2-byte I²C read at 400 kHz takes well under a millisecond: replies come on the next
 * microtask, not on the injected clock, whose smallest tick at a high time scale would be
 * simulated seconds and would race the driver's timeouts.
 */
const soon = queueMicrotask;

type Handler = (value: number) => void;

export class SimIoPlugin extends EventEmitter implements IoPlugin {
  readonly name = 'shouwang-sim';
  readonly MODES = MODES;
  readonly pins: { supportedModes: number[]; mode?: number; value?: number; report?: number; analogChannel?: number }[];
  readonly analogPins: number[];
  isReady = false;
  /** Bus transactions the simulator refuses to answer (fault injection: a frozen chip, a loose connector). */
  readonly silentAddresses = new Set<number>();
  /** Board supply present; an unpowered board answers nothing (the agent is dead anyway, see SimControl.powerCut). */
  powered = true;
  readonly #board: BoardDefinition;
  readonly #truth: () => IoTruth;
  readonly #clock: Clock;
  readonly #reportMs: number;
  readonly #chips = new Map<number, { name: string; chip: InaChip }>();
  readonly #digital = new Map<number, { handlers: Handler[]; last: number | undefined }>();
  readonly #analog = new Map<number, Handler[]>();
  readonly #timers: unknown[] = [];
  #analogTimer: unknown;

  constructor(board: BoardDefinition, truth: () => IoTruth, clock: Clock, reportMs = 100) {
    super();
    this.#board = board;
    this.#truth = truth;
    this.#clock = clock;
    this.#reportMs = reportMs;
    for (const m of board.monitors) this.#chips.set(m.address, { name: m.name, chip: new InaChip(m.chip, m.shuntOhms) });
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
    if (!p) throw new Error(`sim io: no pin ${pin}`);
    if (!p.supportedModes.includes(mode)) throw new Error(`sim io: pin ${pin} does not support mode ${mode}`);
    p.mode = mode;
    return this;
  }

  digitalRead(pin: number | string, handler: Handler): void {
    const n = this.normalize(pin);
    const entry = this.#digital.get(n) ?? { handlers: [], last: undefined };
    entry.handlers.push(handler);
    this.#digital.set(n, entry);
    // The first report comes at once (Firmata sends the port state when reporting is enabled).
    soon(() => {
      entry.last = this.#digitalValue(n);
      handler(entry.last);
    });
  }

  analogRead(pin: number | string, handler: Handler): void {
    const n = this.normalize(pin);
    this.#analog.set(n, [...(this.#analog.get(n) ?? []), handler]);
    soon(() => handler(this.#analogValue(n)));
    this.#analogTimer ??= this.#clock.setInterval(() => this.#reportAnalog(), this.#reportMs);
  }

  /** Reports digital pins whose level changed since their last report; the simulator calls it on every edge. */
  refresh(): void {
    if (!this.powered) return;
    for (const [n, entry] of this.#digital) {
      const v = this.#digitalValue(n);
      if (v === entry.last) continue;
      entry.last = v;
      for (const h of entry.handlers) h(v);
      this.emit(`digital-read-${n}`, v);
    }
  }

  i2cConfig(): this {
    return this;
  }

  /** `i2cWrite(address, [register, msb, lsb])` or `i2cWrite(address, register, [msb, lsb])`. */
  i2cWrite(address: number, register: number | number[], data?: number | number[]): this {
    const bytes = Array.isArray(register) ? register : [register, ...(Array.isArray(data) ? data : data === undefined ? [] : [data])];
    const target = this.#chips.get(address);
    if (!target || this.silentAddresses.has(address) || bytes.length < 3) return this; // a pointer-only write just selects
    target.chip.write(bytes[0] ?? 0, ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0));
    return this;
  }

  i2cWriteReg(address: number, register: number, value: number): this {
    return this.i2cWrite(address, [register, (value >> 8) & 0xff, value & 0xff]);
  }

  i2cReadOnce(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    const target = this.#chips.get(address);
    if (!target || this.silentAddresses.has(address) || !this.powered) return this; // no ACK on the bus: the driver's timeout speaks
    soon(() => {
      const analog = this.#truth().monitors[target.name] ?? { busV: 0, currentA: 0 };
      const bytes = target.chip.read(register, analog) ?? [0, 0];
      // A read longer than the register clocks out the same register again (no auto-increment).
      const out = Array.from({ length: bytesToRead }, (_, i) => bytes[i % 2] ?? 0);
      handler(out);
      this.emit(`I2C-reply-${address}-${register}`, out);
    });
    return this;
  }

  i2cRead(address: number, register: number, bytesToRead: number, handler: (data: number[]) => void): this {
    this.#timers.push(this.#clock.setInterval(() => this.i2cReadOnce(address, register, bytesToRead, handler), this.#reportMs));
    return this;
  }

  close(): void {
    for (const t of this.#timers) this.#clock.clearInterval(t);
    this.#timers.length = 0;
    if (this.#analogTimer !== undefined) this.#clock.clearInterval(this.#analogTimer);
    this.#analogTimer = undefined;
  }

  #reportAnalog(): void {
    if (!this.powered) return;
    for (const [n, handlers] of this.#analog) {
      const v = this.#analogValue(n);
      for (const h of handlers) h(v);
      this.emit(`analog-read-${n - DIGITAL_PINS}`, v);
    }
  }

  #digitalValue(n: number): number {
    const t = this.#truth();
    return n === this.#board.tamperPin ? Number(t.tamper) : n === this.#board.motionPin ? Number(t.motion) : 0;
  }

  #analogValue(n: number): number {
    const t = this.#truth();
    const { tilt, temperature } = this.#board;
    const [spec, physical] =
      n === this.normalize(tilt.pin) ? [tilt, t.tiltDeg] : n === this.normalize(temperature.pin) ? [temperature, t.enclosureTempC] : [];
    if (!spec || physical === undefined) return 0;
    return Math.max(0, Math.min(1023, Math.round((physical - spec.offset) / spec.scale)));
  }
}
