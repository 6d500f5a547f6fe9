import { type IoPlugin, type SerialLink, systemClock } from '@shouwang/hardware';
import type { Link } from '@shouwang/protocol';
import type { Logger } from 'pino';
import type { GpsDiagnosis } from '../domain/commissioning.ts';
import type { AtModem } from '../drivers/at-modem.ts';
import type { NmeaReceiver } from '../drivers/nmea.ts';
import { BoardSensors, openFive, type SensorMap } from './sensors.ts';

/** The board's parts as the agent was given them: each absent when the unit has none, the IO plugin an Error when it failed to load. */
export interface BoardParts {
  gps?: SerialLink;
  modem?: SerialLink;
  io?: IoPlugin | Error;
  sensors: SensorMap;
}

import { PortSupervisor } from './serial-port.ts';

/**
 * Partial hardware: each part starts or fails on its own, says so once with its name and port,
 * and the rest of the unit keeps working. The serial parts are kept open by a PortSupervisor
 * each; their state and their drivers' drop counters travel to the fleet with the link status.
 */
export interface SerialParts {
  gps: PortSupervisor | undefined;
  modem: PortSupervisor | undefined;
  /** What the GPS part's port and driver have seen, for commissioning; undefined without a GPS. */
  gpsDiagnosis(): GpsDiagnosis | undefined;
  health(): Link['ports'];
  stop(): Promise<void>;
}

/** A modem that let a whole command's attempts time out (3 in a row) has gone quiet. */
const MODEM_QUIET_TIMEOUTS = 3;

export function openSerialParts(o: {
  gps: NmeaReceiver;
  modem: AtModem;
  board: BoardParts;
  log: Logger;
  silentAfterMs: number;
  modemTimeoutMs: number;
}): SerialParts {
  const { gps, modem, board, log, silentAfterMs, modemTimeoutMs } = o;
  const gpsLink = board.gps;
  const modemLink = board.modem;
  const gpsPort = gpsLink
    ? new PortSupervisor({
        part: 'gps',
        link: gpsLink,
        clock: systemClock,
        log,
        attach: (s) => gps.attach(s),
        detach: () => gps.detach(),
        quiet: (ms) => ms > silentAfterMs,
        checkMs: Math.max(500, silentAfterMs / 2),
      })
    : undefined;
  let timeoutsInRow = 0;
  const modemPort = modemLink
    ? new PortSupervisor({
        part: 'modem',
        link: modemLink,
        clock: systemClock,
        log,
        attach: (s) => {
          // A reopened port starts with a clean record: its own timeouts will say whether it is still silent.
          timeoutsInRow = 0;
          s.on('data', () => {
            timeoutsInRow = 0;
          });
          modem.attach(s);
        },
        detach: () => modem.detach(),
        quiet: () => timeoutsInRow >= MODEM_QUIET_TIMEOUTS,
        checkMs: Math.max(500, modemTimeoutMs),
      })
    : undefined;
  const gpsLog = log.child({ part: 'gps', port: gpsLink?.path });
  const modemLog = log.child({ part: 'modem', port: modemLink?.path });
  // Each drop at debug (a noisy line would flood the log); the counts reach the fleet in `ports`.
  gps.on('drop', (reason, sample) => gpsLog.debug({ reason, sample, dropped: gps.dropped.total() }, 'bad NMEA dropped'));
  modem.on('drop', (reason, sample) => {
    if (reason === 'timeout') timeoutsInRow++;
    modemLog.debug({ reason, sample, dropped: modem.dropped.total() }, 'bad AT input dropped');
  });
  if (!gpsLink) log.info({ part: 'gps' }, 'no GPS on this unit (gps.enabled=false)');
  if (!modemLink) log.info({ part: 'modem' }, 'no modem on this unit (modem.enabled=false)');
  gpsPort?.start();
  modemPort?.start();
  const absent = { state: 'absent', reopens: 0, drops: {} } as const;
  return {
    gps: gpsPort,
    gpsDiagnosis: () =>
      gpsPort && gpsLink
        ? {
            path: gpsLink.path,
            baudRate: gpsLink.baudRate,
            state: gpsPort.state,
            ...(gpsPort.error ? { error: gpsPort.error } : {}),
            bytes: gps.bytes,
            sentences: gps.sentences,
            ...(gps.satellitesInView === undefined ? {} : { satellitesInView: gps.satellitesInView }),
            fix: gps.current(),
          }
        : undefined,
    modem: modemPort,
    health: () => ({
      gps: gpsPort?.health(gps.dropped.snapshot()) ?? absent,
      modem: modemPort?.health(modem.dropped.snapshot()) ?? absent,
    }),
    async stop() {
      await Promise.all([gpsPort?.stop(), modemPort?.stop()]);
    },
  };
}

/**
 * The sensors through the IO plugin; without them (not fitted, plugin not installed, plugin that
 * never becomes ready) the reason, said once and kept for commissioning.
 */
export async function openSensors(board: BoardParts, log: Logger): Promise<{ sensors: BoardSensors } | { problem: string }> {
  const plog = log.child({ part: 'io' });
  const io = board.io;
  const unavailable = (problem: string, err?: unknown) => {
    plog.error({ problem, ...(err ? { err } : {}) }, 'power monitors and sensors unavailable; the rest of the unit keeps working');
    return { problem };
  };
  if (io === undefined) return unavailable('not fitted on this unit (parts.io=false)');
  if (io instanceof Error) return unavailable(io.message, io);
  try {
    const five = await openFive(io, systemClock);
    return { sensors: new BoardSensors(five, board.sensors, systemClock, log.child({ module: 'sensors', part: 'io' })) };
  } catch (err) {
    return unavailable(`IO plugin did not start: ${(err as Error).message}`, err);
  }
}
