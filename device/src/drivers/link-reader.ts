import type { Link, LinkType } from '@shouwang/protocol';
import type { AtModem } from './at-modem.ts';
import { cellularBars, parseCereg, parseCops, parseCsq, parseSatelliteCsq, satelliteDbm } from './at-parse.ts';

export type ModemProfile = 'cellular' | 'satellite';

/** A field the modem did not answer, or answered unreadably, is absent: unknown, never a made-up value. */
export interface LinkReading {
  type: LinkType;
  rssiDbm?: number;
  bars?: number;
  registered?: boolean;
  operator?: string;
  /** The serial parts' ports and drop counters, added by the caller that supervises them. */
  ports?: Link['ports'];
}

/** The answer line each query waits for (27.007 read forms; Iridium's one-field +CSQ, +CREG:<n>,<stat>). */
const EXPECT = {
  csq: /^\+CSQ:\s*\d+,\d+$/,
  satCsq: /^\+CSQF?:\s*\d+$/,
  reg: /^\+C(?:E|5G)?REG:\s*\d+,\d+/,
  cops: /^\+COPS:/,
} as const;

/**
 * One link-quality poll. Cellular: AT+CSQ, AT+CEREG?, AT+COPS? (27.007). Satellite: the Iridium
 * ISU's AT+CSQ (bars) and AT+CREG?. A command that fails leaves its field unknown; the reading is
 * still returned, because a half-answering modem is itself worth reporting. An answer that cannot
 * be read is counted on the driver (`unparsable`).
 */
export async function readLink(modem: AtModem, profile: ModemProfile): Promise<LinkReading> {
  if (profile === 'satellite') {
    const csq = await query(modem, 'AT+CSQ', EXPECT.satCsq, parseSatelliteCsq, 10_000);
    const reg = await query(modem, 'AT+CREG?', EXPECT.reg, (l) => parseCereg(l, 'read'));
    const reading: LinkReading = { type: 'satellite' };
    if (csq) Object.assign(reading, { bars: csq.bars, rssiDbm: satelliteDbm(csq.bars) });
    if (reg) reading.registered = reg.registered;
    return reading;
  }
  const csq = await query(modem, 'AT+CSQ', EXPECT.csq, parseCsq);
  const reg = await query(modem, 'AT+CEREG?', EXPECT.reg, (l) => parseCereg(l, 'read'));
  const cops = await query(modem, 'AT+COPS?', EXPECT.cops, parseCops);
  // Not registered: no service, whatever +COPS says. Registration unknown: +COPS alone decides.
  const type: LinkType = reg?.registered === false ? 'none' : (cops?.type ?? (reg?.registered ? 'lte' : 'none'));
  const reading: LinkReading = { type };
  if (csq) Object.assign(reading, { rssiDbm: csq.rssiDbm, bars: cellularBars(csq.rssiDbm) });
  if (reg) reading.registered = reg.registered;
  if (cops?.operator) reading.operator = cops.operator.slice(0, 32);
  return reading;
}

/**
 * Sends one query and reads its answer line; undefined when it failed or was unreadable. +CSQ's
 * 99 ("not known or not detectable", 27.007 §8.5) is an answer meaning unknown, not a bad parse.
 */
async function query<T>(
  modem: AtModem,
  command: string,
  expect: RegExp,
  parse: (line: string) => T | undefined,
  timeoutMs?: number,
): Promise<T | undefined> {
  let lines: string[];
  try {
    lines = await modem.send(command, { expect, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  } catch {
    return undefined; // timeouts and errors are already counted by the driver
  }
  const line = lines[0];
  const value = line === undefined ? undefined : parse(line);
  if (value === undefined && !(line && /^\+CSQ:\s*99,/.test(line))) modem.unparsable(command, line);
  return value;
}

/**
 * Radio on/off. Cellular: AT+CFUN=1 / AT+CFUN=4 (27.007 §8.2: 4 = RF transmit and receive off,
 * SIM and registration state kept, so coming back is seconds, not a cold attach). Satellite: the
 * Iridium ISU's AT*R1 / AT*R0 (radio activity).
 */
export async function setRadio(modem: AtModem, profile: ModemProfile, up: boolean): Promise<void> {
  const cmd = profile === 'satellite' ? (up ? 'AT*R1' : 'AT*R0') : up ? 'AT+CFUN=1' : 'AT+CFUN=4';
  // CFUN can take seconds while the module tears down or re-attaches (Quectel documents up to 15 s).
  await modem.send(cmd, { timeoutMs: 15_000, retries: 1 });
}
