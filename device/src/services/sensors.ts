import type { Clock, IoPlugin } from '@shouwang/hardware';
import Board from 'johnny-five/lib/board.js';
import type { Logger } from 'pino';
import { type MonitorSpec, PowerMonitors } from '../drivers/power-monitor.ts';
import type { SensorPort, SensorReading } from './agent.ts';

/**
 * The board's sensors through johnny-five: power monitors on I²C, tamper and motion on digital
 * pins, tilt and enclosure temperature on analog pins. Which pin is which is board data
 * (hardware/boards), passed in as `SensorMap`; nothing here branches on the board's name.
 */
export interface SensorMap {
  monitors: readonly MonitorSpec[];
  tamperPin?: number | string;
  motionPin?: number | string;
  /** Analog pin and how to read it: degrees = raw × scale + offset. */
  tilt?: { pin: number | string; scale: number; offset: number };
  temperature?: { pin: number | string; scale: number; offset: number };
}

/** Opens a johnny-five Board on the IO plugin; resolves when the plugin reports ready. */
export function openFive(io: IoPlugin, clock: Clock, timeoutMs = 10_000): Promise<Board> {
  return new Promise((resolve, reject) => {
    const board = new Board({ io, repl: false, debug: false, timeout: timeoutMs });
    const timer = clock.setTimeout(() => reject(new Error('IO plugin not ready')), timeoutMs);
    board.once('ready', () => {
      clock.clearTimeout(timer);
      resolve(board);
    });
    board.once('error', (err: unknown) => {
      clock.clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

export class BoardSensors implements SensorPort {
  readonly monitors: PowerMonitors;
  private readonly map: SensorMap;
  private readonly log: Logger;
  private readonly latest = new Map<string, number>();

  constructor(board: Board, map: SensorMap, clock: Clock, log: Logger) {
    this.map = map;
    this.log = log;
    this.monitors = new PowerMonitors(board, map.monitors, { clock });
    // johnny-five reports digital and analog pins continuously once read; keep the latest of each.
    const watch = (key: string, pin: number | string | undefined, analog: boolean) => {
      if (pin === undefined) return;
      board.pinMode(pin, analog ? 2 : 0);
      const h = (v: number) => this.latest.set(key, v);
      if (analog) board.analogRead(pin, h);
      else board.digitalRead(pin, h);
    };
    watch('tamper', map.tamperPin, false);
    watch('motion', map.motionPin, false);
    watch('tilt', map.tilt?.pin, true);
    watch('temperature', map.temperature?.pin, true);
  }

  async read(): Promise<SensorReading | undefined> {
    const m = await this.monitors.readAll();
    const battery = m.battery;
    // The pack sits in the enclosure: its sensor is the battery temperature the derating needs.
    const tempC = this.analog('temperature', this.map.temperature);
    if (!battery || tempC === undefined) {
      this.log.warn(
        { dropped: this.monitors.dropped.snapshot(), temperature: tempC !== undefined },
        'battery monitor or temperature unreadable; sample skipped',
      );
      return undefined;
    }
    const r: SensorReading = {
      batteryV: battery.busV,
      batteryW: battery.powerW,
      batteryTempC: tempC,
      solarW: Math.max(0, m.solar?.powerW ?? 0),
      windW: Math.max(0, m.wind?.powerW ?? 0),
      loadW: Math.max(0, m.load?.powerW ?? 0),
    };
    const tamper = this.latest.get('tamper');
    const motion = this.latest.get('motion');
    const tilt = this.analog('tilt', this.map.tilt);
    if (tamper !== undefined) r.tamper = tamper === 1;
    if (motion !== undefined) r.motion = motion === 1;
    if (tilt !== undefined) r.tiltDeg = tilt;
    r.enclosureTempC = tempC;
    return r;
  }

  private analog(key: string, spec: { scale: number; offset: number } | undefined): number | undefined {
    const raw = this.latest.get(key);
    if (raw === undefined || !spec) return undefined;
    return Math.round((raw * spec.scale + spec.offset) * 10) / 10;
  }
}
