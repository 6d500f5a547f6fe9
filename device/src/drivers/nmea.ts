import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { type Clock, systemClock } from '@shouwang/hardware';
import { type GGAPacket, type GLLPacket, type GNSPacket, type GSAPacket, parseNmeaSentence, type RMCPacket } from 'nmea-simple';
import { Counters } from './counters.ts';

/**
 * NMEA 0183 receiver: bytes from a GNSS serial port → fixes. Framing and checksums are checked
 * here (NMEA 0183 v4.11 §5.3: `$`, at most 82 characters incl. CR LF, `*hh` XOR checksum) so each
 * bad sentence is counted by reason; decoding is nmea-simple's. Any talker id (GP, GN, BD, GB, GL,
 * GA, …) is accepted: a multi-constellation receiver reports one solution under whichever it likes.
 */
export interface GnssFix {
  /** UTC time of the fix, ms since epoch (date from the last RMC/ZDA; time-of-day alone until then). */
  ts: number | undefined;
  lat: number;
  lon: number;
  fix: 'none' | '2d' | '3d';
  altM?: number;
  speedMps?: number;
  sats?: number;
  hdop?: number;
}

export type NmeaDropReason = 'framing' | 'too-long' | 'checksum' | 'malformed';

/** NMEA says 82; real receivers (u-blox high-precision mode, Trimble RTK) send longer lines, gpsd allows ~ 90+. */
const MAX_LINE = 120;
/** Carry at most this much of an unterminated line between chunks, so a stream of garbage cannot grow memory. */
const MAX_PENDING = 4 * MAX_LINE;
const KNOTS_TO_MPS = 1852 / 3600;
const POSITION_SENTENCES = new Set(['GGA', 'GNS', 'RMC', 'GLL', 'GSA']);
/** Field index of hhmmss.sss per sentence (NMEA 0183 §6.3): parsed here because nmea-simple rounds some to the second. */
const TIME_FIELD: Record<string, number> = { GGA: 1, GNS: 1, RMC: 1, GLL: 5 };
/** Field index of the latitude (ddmm.mmmm, then N/S, dddmm.mmmm, E/W). */
const LAT_FIELD: Record<string, number> = { GGA: 2, GNS: 2, RMC: 3, GLL: 1 };

export interface NmeaOptions {
  /** Wall clock: how old the last sentence is, a physical latency. */
  clock?: Clock;
  /** With no good sentence for this long the receiver has no current fix (default 10 s). */
  staleAfterMs?: number;
}

interface NmeaEvents {
  fix: [GnssFix];
  drop: [NmeaDropReason, string];
}

export class NmeaReceiver extends EventEmitter<NmeaEvents> {
  readonly dropped = new Counters<NmeaDropReason>();
  sentences = 0;
  /** Bytes read, good or bad: none at all means nothing is on the line. */
  bytes = 0;
  /** Satellites in view from the last GSV (NMEA 0183 §6.3 GSV field 3), whether or not there is a fix. */
  satellitesInView: number | undefined;
  private readonly clock: Clock;
  private readonly staleAfterMs: number;
  private lastSentenceAt: number | undefined;
  private source: Readable | undefined;
  private readonly onData = (chunk: Buffer | string) => this.push(chunk);
  private pending = '';
  private position: { lat: number; lon: number } | undefined;
  private valid = false;
  /** From GSA, or inferred from GGA's altitude the way gpsd does. */
  private mode: '2d' | '3d' | undefined;
  private altitudeKnown = false;
  private coordsOk = true;
  private dateMs: number | undefined;
  private timeMs: number | undefined;
  private extra: Pick<GnssFix, 'altM' | 'speedMps' | 'sats' | 'hdop'> = {};

  constructor(options: NmeaOptions = {}) {
    super();
    this.clock = options.clock ?? systemClock;
    this.staleAfterMs = options.staleAfterMs ?? 10_000;
  }

  /** Reads a serial stream (a reopened port replaces the last); errors on it are the owner's to handle. */
  attach(stream: Readable): void {
    this.detach();
    this.source = stream;
    stream.on('data', this.onData);
  }

  /** The port is gone: a sentence cut off by the close is not glued to the next port's first. */
  detach(): void {
    this.source?.off('data', this.onData);
    this.source = undefined;
    this.pending = '';
  }

  push(chunk: Buffer | string): void {
    this.bytes += chunk.length;
    this.pending += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      this.line(this.pending.slice(0, nl).replace(/\r$/, ''));
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf('\n');
    }
    if (this.pending.length > MAX_PENDING) {
      this.drop('too-long', this.pending.slice(0, 40));
      this.pending = '';
    }
  }

  /**
   * The current fix, or undefined before the first position and once the receiver has said nothing
   * readable for `staleAfterMs`: a position the receiver no longer stands behind is not current.
   */
  current(): GnssFix | undefined {
    if (!this.position || this.lastSentenceAt === undefined) return undefined;
    if (this.clock.now() - this.lastSentenceAt > this.staleAfterMs) return undefined;
    const fix = !this.valid ? 'none' : this.altitudeKnown ? '3d' : (this.mode ?? '2d');
    const ts = this.timeMs === undefined ? undefined : (this.dateMs ?? 0) + this.timeMs;
    return { ts, ...this.position, fix, ...this.extra };
  }

  private line(raw: string): void {
    if (raw.length === 0) return;
    const start = raw.indexOf('$');
    if (start < 0) {
      this.drop('framing', raw);
      return;
    }
    // Bytes before `$` are line noise glued onto a good sentence: count them, keep the sentence.
    if (start > 0) this.drop('framing', raw.slice(0, start));
    const s = raw.slice(start);
    if (s.length > MAX_LINE) {
      this.drop('too-long', s);
      return;
    }
    if (!checksumOk(s)) {
      this.drop('checksum', s);
      return;
    }
    const id = s.slice(s.charAt(1) === 'P' ? 2 : 3, s.indexOf(','));
    this.sentences++;
    this.lastSentenceAt = this.clock.now();
    if (id === 'GSV') this.gsv(s);
    if (!POSITION_SENTENCES.has(id) && id !== 'ZDA') return;
    let packet: ReturnType<typeof parseNmeaSentence>;
    try {
      packet = parseNmeaSentence(s);
    } catch {
      this.drop('malformed', s);
      return;
    }
    const fields = s.slice(0, s.lastIndexOf('*')).split(',');
    const tod = timeOfDayMs(fields[TIME_FIELD[id] ?? -1]);
    if (tod !== undefined) this.timeMs = tod;
    // nmea-simple reads an unreadable coordinate as 0°: check the digits before believing it.
    this.coordsOk = LAT_FIELD[id] === undefined || coordinatesWellFormed(fields, LAT_FIELD[id]);
    let usable: boolean;
    switch (packet.sentenceId) {
      case 'RMC':
        usable = this.rmc(packet);
        break;
      case 'GGA':
      case 'GNS':
        // nmea-simple reads an empty altitude field as 0 m: whether there is one is the field's to say.
        usable = this.gga(packet, (fields[9] ?? '') !== '');
        break;
      case 'GLL':
        usable = this.gll(packet);
        break;
      case 'GSA':
        this.gsa(packet);
        return;
      case 'ZDA':
        if (isDate(packet.datetime)) this.dateMs = startOfDay(packet.datetime.getTime());
        return;
      default:
        return;
    }
    // A sentence that claims a fix but carries no readable position is corrupt despite its checksum.
    if (!usable) {
      this.drop('malformed', s);
      return;
    }
    const fix = this.current();
    if (fix) this.emit('fix', fix);
  }

  /** Fix lost: what the last solution said about its mode (altitude, GSA) belongs to it, not to the next. */
  private setValid(valid: boolean): void {
    if (!valid) {
      this.mode = undefined;
      this.altitudeKnown = false;
    }
    this.valid = valid;
  }

  private gsv(s: string): void {
    const inView = Number(s.slice(0, s.lastIndexOf('*')).split(',')[3]);
    if (Number.isInteger(inView) && inView >= 0) this.satellitesInView = inView;
  }

  private rmc(p: RMCPacket): boolean {
    this.setValid(p.status === 'valid');
    if (isDate(p.datetime)) this.dateMs = startOfDay(p.datetime.getTime());
    if (Number.isFinite(p.speedKnots)) this.extra.speedMps = round(p.speedKnots * KNOTS_TO_MPS, 3);
    return !this.valid || this.setPosition(p.latitude, p.longitude);
  }

  private gga(p: GGAPacket | GNSPacket, hasAltitude: boolean): boolean {
    this.setValid(p.sentenceId === 'GGA' ? p.fixType !== 'none' : /^[ADPRFEMS]/.test(p.modeIndicator));
    if (!this.valid) return true;
    if (!this.setPosition(p.latitude, p.longitude)) return false;
    const altitude = hasAltitude && Number.isFinite(p.altitudeMeters);
    if (altitude) this.extra.altM = p.altitudeMeters;
    else delete this.extra.altM;
    // gpsd reports 3D whenever the solution has an altitude, even when the receiver's GSA says 2D (Quectel EC2x does).
    this.altitudeKnown = altitude;
    if (Number.isFinite(p.satellitesInView)) this.extra.sats = p.satellitesInView;
    if (Number.isFinite(p.horizontalDilution)) this.extra.hdop = p.horizontalDilution;
    return true;
  }

  private gll(p: GLLPacket): boolean {
    this.setValid(p.status === 'valid');
    return !this.valid || this.setPosition(p.latitude, p.longitude);
  }

  private gsa(p: GSAPacket): void {
    if (p.fixMode === '3D') this.mode = '3d';
    else if (p.fixMode === '2D') this.mode = '2d';
    else if (p.fixMode === 'none') {
      // GSA mode 1 = no fix (NMEA 0183 §6.3 GSA): the last position is history, not a fix.
      this.setValid(false);
    }
    if (Number.isFinite(p.HDOP) && p.HDOP > 0) this.extra.hdop = p.HDOP;
  }

  private setPosition(lat: number, lon: number): boolean {
    if (!this.coordsOk || !(Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return false;
    this.position = { lat, lon };
    return true;
  }

  private drop(reason: NmeaDropReason, sample: string): void {
    this.dropped.inc(reason);
    this.emit('drop', reason, sample.slice(0, 40));
  }
}

/** NMEA 0183 §5.3.1: XOR of every character between `$` and `*`, as two hex digits. */
export function checksumOk(sentence: string): boolean {
  const star = sentence.lastIndexOf('*');
  if (star < 1 || star + 3 !== sentence.length) return false;
  let sum = 0;
  for (let i = 1; i < star; i++) sum ^= sentence.charCodeAt(i);
  return sum === Number.parseInt(sentence.slice(star + 1), 16) && /^[0-9A-Fa-f]{2}$/.test(sentence.slice(star + 1));
}

function coordinatesWellFormed(fields: string[], at: number): boolean {
  return (
    /^\d{4}(\.\d+)?$/.test(fields[at] ?? '') &&
    /^[NS]$/.test(fields[at + 1] ?? '') &&
    /^\d{5}(\.\d+)?$/.test(fields[at + 2] ?? '') &&
    /^[EW]$/.test(fields[at + 3] ?? '')
  );
}

/** `hhmmss[.s…]` → ms since midnight. */
function timeOfDayMs(field: string | undefined): number | undefined {
  const m = field ? /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/.exec(field) : null;
  if (!m) return undefined;
  return Math.round((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000);
}

const DAY_MS = 86_400_000;
function startOfDay(ms: number): number {
  return ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
}
function isDate(d: unknown): d is Date {
  return d instanceof Date && Number.isFinite(d.getTime());
}
function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
