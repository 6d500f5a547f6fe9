import type { Duplex } from 'node:stream';
import type { Clock } from '../ports.ts';
import { rng } from './environment.ts';

/**
 * A multi-constellation receiver speaking NMEA 0183 v4 at 9600 Bd, one epoch per second:
 * GNRMC, GNGGA, GNGSA, GNVTG (and GPGSV), each `$…*hh\r\n` with the XOR checksum of the
 * characters between `$` and `*` (NMEA 0183 §5.3). Position wanders around the true point with
 * a couple of metres of noise, as a parked receiver does.
 */
export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x.toString(16).toUpperCase().padStart(2, '0');
}

export function sentence(body: string): string {
  return `$${body}*${checksum(body)}\r\n`;
}

function dm(value: number, degDigits: number): string {
  const a = Math.abs(value);
  const deg = Math.floor(a);
  const min = (a - deg) * 60;
  return `${String(deg).padStart(degDigits, '0')}${min.toFixed(5).padStart(8, '0')}`;
}

function hhmmss(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.00`;
}

function ddmmyy(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}${p(d.getUTCMonth() + 1)}${p(d.getUTCFullYear() % 100)}`;
}

export interface GpsState {
  lat: number;
  lon: number;
  altM: number;
  fix: boolean;
  sats: number;
}

/** The sentences of one epoch. */
export function epoch(t: number, s: GpsState, speedKnots = 0.02): string {
  const d = new Date(t);
  const ns = s.lat >= 0 ? 'N' : 'S';
  const ew = s.lon >= 0 ? 'E' : 'W';
  const lat = dm(s.lat, 2);
  const lon = dm(s.lon, 3);
  const valid = s.fix ? 'A' : 'V';
  const mode = s.fix ? 'A' : 'N';
  const prns = [2, 5, 7, 9, 13, 15, 18, 20, 23, 26, 29, 30].slice(0, s.sats);
  return [
    sentence(`GNRMC,${hhmmss(d)},${valid},${lat},${ns},${lon},${ew},${speedKnots.toFixed(3)},,${ddmmyy(d)},,,${mode},V`),
    sentence(
      `GNGGA,${hhmmss(d)},${lat},${ns},${lon},${ew},${s.fix ? 1 : 0},${String(s.sats).padStart(2, '0')},0.8,${s.altM.toFixed(1)},M,-8.0,M,,`,
    ),
    sentence(`GNGSA,A,${s.fix ? 3 : 1},${[...prns, ...Array(12 - prns.length).fill('')].join(',')},1.4,0.8,1.1,1`),
    sentence(`GNVTG,,T,,M,${speedKnots.toFixed(3)},N,${(speedKnots * 1.852).toFixed(3)},K,${mode}`),
    sentence(`GPGSV,1,1,${String(Math.min(4, s.sats)).padStart(2, '0')},02,45,120,38,05,30,210,35,07,62,300,41,09,15,045,29`),
  ].join('');
}

export class SimGps {
  readonly #out: Duplex;
  readonly #clock: Clock;
  readonly #rand: () => number;
  #state: GpsState;
  #timer: unknown;
  /** Raw bytes queued by fault injection, written before the next epoch. */
  #inject: string[] = [];

  constructor(out: Duplex, clock: Clock, site: { lat: number; lon: number }, seed: number) {
    this.#out = out;
    this.#clock = clock;
    this.#rand = rng(seed ^ 0x9e3779b9);
    this.#state = { lat: site.lat, lon: site.lon, altM: 142, fix: true, sats: 11 };
  }

  get position(): GpsState {
    return { ...this.#state };
  }

  start(): void {
    this.#timer = this.#clock.setInterval(() => this.#tick(), 1000);
  }

  stop(): void {
    this.#clock.clearInterval(this.#timer);
  }

  move(lat: number, lon: number): void {
    this.#state = { ...this.#state, lat, lon };
  }

  setFix(fix: boolean): void {
    this.#state = { ...this.#state, fix, sats: fix ? 11 : 0 };
  }

  injectGarbage(bytes: string): void {
    this.#inject.push(bytes);
  }

  #tick(): void {
    const jitter = () => (this.#rand() - 0.5) * 2 * 2e-5; // ±2e-5° ≈ ±2 m
    const s = { ...this.#state, lat: this.#state.lat + jitter(), lon: this.#state.lon + jitter() };
    const text = this.#inject.splice(0).join('') + epoch(this.#clock.now(), s);
    if (!this.#out.destroyed) this.#out.write(text);
  }
}
