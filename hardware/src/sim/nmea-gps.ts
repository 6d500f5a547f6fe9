import type { Duplex } from 'node:stream';
import type { Clock } from '../ports.ts';
import { rng } from './environment.ts';

/**
 * A multi-constellation receiver speaking NMEA 0183 v4.10 at 9600 Bd: GNRMC, GNGGA, GNGSA, GNVTG
 * and GPGSV each navigation epoch, each `$…*hh\r\n` with the XOR checksum of the characters
 * between `$` and `*` (NMEA 0183 §5.3). Position wanders around the true point with a couple of
 * metres of noise, as a parked receiver does. Like a UART with nobody reading, epochs that find
 * the line's buffer full are lost (counted as overruns), never queued without bound.
 */
export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

export function sentence(body: string): string {
  return `$${body}*${checksum(body)}\r\n`;
}

/** ddmm.mmmmm / dddmm.mmmmm (NMEA 0183 §6.2 latitude/longitude fields). */
function dm(value: number, degDigits: number): string {
  const a = Math.abs(value);
  let deg = Math.floor(a);
  let min = Number(((a - deg) * 60).toFixed(5));
  if (min >= 60) {
    deg += 1;
    min = 0;
  }
  return `${String(deg).padStart(degDigits, '0')}${min.toFixed(5).padStart(8, '0')}`;
}

const KNOT_MPS = 1852 / 3600;
const EARTH_M = 6_371_000;

const pad = (n: number) => String(n).padStart(2, '0');

function hhmmss(d: Date): string {
  return `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}.00`;
}

function ddmmyy(d: Date): string {
  return `${pad(d.getUTCDate())}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCFullYear() % 100)}`;
}

export interface GpsState {
  lat: number;
  lon: number;
  altM: number;
  fix: boolean;
  sats: number;
}

/** Satellites above the horizon for the GSV sentences: PRN, elevation °, azimuth °, SNR dB-Hz. */
const SKY: readonly [number, number, number, number][] = [
  [2, 45, 120, 38],
  [5, 30, 210, 35],
  [7, 62, 300, 41],
  [9, 15, 45, 29],
  [13, 52, 80, 40],
  [15, 22, 160, 33],
  [18, 35, 250, 36],
  [20, 70, 10, 43],
  [23, 12, 330, 27],
  [26, 40, 190, 37],
  [29, 28, 100, 34],
  [30, 55, 280, 39],
];

/** GSV: up to four satellites per sentence, total and index in fields 1–2 (NMEA 0183 §6.3 GSV). */
function gsv(count: number): string[] {
  if (count === 0) return [sentence('GPGSV,1,1,00')];
  const sats = SKY.slice(0, count);
  const total = Math.ceil(sats.length / 4);
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    const group = sats.slice(i * 4, i * 4 + 4).map(([prn, el, az, snr]) => `${pad(prn)},${pad(el)},${String(az).padStart(3, '0')},${snr}`);
    out.push(sentence(`GPGSV,${total},${i + 1},${pad(count)},${group.join(',')}`));
  }
  return out;
}

/** The sentences of one epoch. */
export function epoch(t: number, s: GpsState, speedKnots = 0.02, courseDeg?: number): string {
  const d = new Date(t);
  const ns = s.lat >= 0 ? 'N' : 'S';
  const ew = s.lon >= 0 ? 'E' : 'W';
  const lat = dm(s.lat, 2);
  const lon = dm(s.lon, 3);
  const valid = s.fix ? 'A' : 'V';
  const mode = s.fix ? 'A' : 'N';
  const prns = SKY.slice(0, s.sats).map(([prn]) => pad(prn));
  // Without a fix a receiver leaves the position fields empty rather than repeating an old one.
  const pos = s.fix ? `${lat},${ns},${lon},${ew}` : ',,,';
  // A parked receiver leaves course empty: below ~0.5 kn the heading is noise.
  const course = courseDeg === undefined || !s.fix ? '' : courseDeg.toFixed(1);
  return [
    sentence(`GNRMC,${hhmmss(d)},${valid},${pos},${speedKnots.toFixed(3)},${course},${ddmmyy(d)},,,${mode},V`),
    sentence(
      `GNGGA,${hhmmss(d)},${pos},${s.fix ? 1 : 0},${pad(s.sats)},${s.fix ? '0.8' : ''},${s.fix ? s.altM.toFixed(1) : ''},M,-8.0,M,,`,
    ),
    sentence(
      `GNGSA,A,${s.fix ? 3 : 1},${[...prns, ...Array(12 - prns.length).fill('')].join(',')},${s.fix ? '1.4,0.8,1.1' : '99.99,99.99,99.99'},1`,
    ),
    sentence(`GNVTG,${course},T,,M,${speedKnots.toFixed(3)},N,${(speedKnots * 1.852).toFixed(3)},K,${mode}`),
    ...gsv(s.sats),
  ].join('');
}

export class SimGps {
  /** Epochs lost because the reader left the line's buffer full. */
  overruns = 0;
  #out: Duplex;
  readonly #clock: Clock;
  readonly #rand: () => number;
  readonly #periodMs: number;
  #state: GpsState;
  #timer: unknown;
  /** Raw bytes queued by fault injection, written before the next epoch. */
  #inject: string[] = [];
  #truncateNext = false;
  #powered = true;
  /** Ground velocity while the unit is being moved (towed to a new site), else undefined. */
  #velocity: { mps: number; courseDeg: number } | undefined;
  #lastTick: number;

  /** `periodMs`: the navigation rate (1000 = 1 Hz; a u-blox CFG-RATE can slow it). */
  constructor(out: Duplex, clock: Clock, site: { lat: number; lon: number }, seed: number, periodMs = 1000) {
    this.#out = out;
    this.#clock = clock;
    this.#rand = rng(seed ^ 0x9e3779b9);
    this.#periodMs = periodMs;
    this.#state = { lat: site.lat, lon: site.lon, altM: 142, fix: true, sats: 11 };
    this.#lastTick = clock.now();
  }

  /** The line was reopened: epochs go to the new one. */
  connect(out: Duplex): void {
    this.#out = out;
  }

  get position(): GpsState {
    return { ...this.#state };
  }

  start(): void {
    this.#timer = this.#clock.setInterval(() => this.#tick(), this.#periodMs);
  }

  stop(): void {
    this.#clock.clearInterval(this.#timer);
  }

  move(lat: number, lon: number): void {
    this.#state = { ...this.#state, lat, lon };
  }

  /** Starts (speed > 0) or stops the unit moving; the position advances every epoch along the course. */
  drive(speedMps: number, courseDeg = 0): void {
    this.#velocity = speedMps > 0 ? { mps: speedMps, courseDeg: ((courseDeg % 360) + 360) % 360 } : undefined;
  }

  get velocity(): { mps: number; courseDeg: number } | undefined {
    return this.#velocity;
  }

  /** An unpowered receiver writes nothing; powered again it keeps its almanac (hot start) here. */
  setPowered(on: boolean): void {
    this.#powered = on;
  }

  setFix(fix: boolean): void {
    this.#state = { ...this.#state, fix, sats: fix ? 11 : 0 };
  }

  injectGarbage(bytes: string): void {
    this.#inject.push(bytes);
  }

  /** The next epoch is cut off mid-sentence, as when the receiver browns out or the UART drops bytes. */
  truncateNext(): void {
    this.#truncateNext = true;
  }

  #tick(): void {
    const now = this.#clock.now();
    this.#advance((now - this.#lastTick) / 1000);
    this.#lastTick = now;
    if (this.#out.destroyed || !this.#powered) return;
    const injected = this.#inject.splice(0).join('');
    if (this.#out.writableNeedDrain) {
      this.overruns++;
      return;
    }
    const jitter = () => (this.#rand() - 0.5) * 2 * 2e-5; // ±2e-5° ≈ ±2 m
    const s = { ...this.#state, lat: this.#state.lat + jitter(), lon: this.#state.lon + jitter() };
    const v = this.#velocity;
    let text = v ? epoch(now, s, v.mps / KNOT_MPS, v.courseDeg) : epoch(now, s);
    if (this.#truncateNext) {
      this.#truncateNext = false;
      text = text.slice(0, Math.floor(text.length * (0.2 + 0.6 * this.#rand())));
    }
    this.#out.write(injected + text);
  }

  /** Dead reckoning on a sphere, fine for the metres-to-kilometres a towed unit covers per epoch. */
  #advance(dtS: number): void {
    const v = this.#velocity;
    if (!v || dtS <= 0) return;
    const d = v.mps * dtS;
    const c = (v.courseDeg * Math.PI) / 180;
    const lat = this.#state.lat + ((d * Math.cos(c)) / EARTH_M) * (180 / Math.PI);
    const lon = this.#state.lon + ((d * Math.sin(c)) / (EARTH_M * Math.cos((this.#state.lat * Math.PI) / 180))) * (180 / Math.PI);
    this.#state = { ...this.#state, lat, lon };
  }
}
