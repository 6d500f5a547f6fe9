import type { LinkType } from '@shouwang/protocol';
import type { AtModem } from './at-modem.ts';
import { cellularBars, parseCereg, parseCops, parseCsq, parseSatelliteCsq, satelliteDbm } from './at-parse.ts';

export type ModemProfile = 'cellular' | 'satellite';

export interface LinkReading {
  type: LinkType;
  rssiDbm: number;
  bars: number;
  registered: boolean;
  operator?: string;
}

/**
 * One link-quality poll. Cellular: AT+CSQ, AT+CEREG?, AT+COPS? (27.007). Satellite: the Iridium
 * ISU's AT+CSQ (bars) and AT+CREG?. A command that fails leaves its field at "unknown"; the
 * reading is still returned, because a half-answering modem is itself worth reporting.
 */
export async function readLink(modem: AtModem, profile: ModemProfile): Promise<LinkReading> {
  if (profile === 'satellite') {
    const csq = parseSatelliteCsq((await settle(modem.send('AT+CSQ', { timeoutMs: 10_000 })))[0] ?? '');
    const reg = parseCereg((await settle(modem.send('AT+CREG?')))[0] ?? '', 'read');
    const bars = csq?.bars ?? 0;
    return { type: 'satellite', bars, rssiDbm: satelliteDbm(bars), registered: reg?.registered ?? bars > 0 };
  }
  const csq = parseCsq((await settle(modem.send('AT+CSQ')))[0] ?? '');
  const reg = parseCereg((await settle(modem.send('AT+CEREG?')))[0] ?? '', 'read');
  const cops = parseCops((await settle(modem.send('AT+COPS?')))[0] ?? '');
  const rssiDbm = csq?.rssiDbm ?? -150;
  const registered = reg?.registered ?? false;
  const reading: LinkReading = {
    type: registered ? (cops?.type ?? 'lte') : 'none',
    rssiDbm,
    bars: csq ? cellularBars(rssiDbm) : 0,
    registered,
  };
  if (cops?.operator) reading.operator = cops.operator.slice(0, 32);
  return reading;
}

async function settle(p: Promise<string[]>): Promise<string[]> {
  try {
    return await p;
  } catch {
    return [];
  }
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
