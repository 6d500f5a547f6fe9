import type { LinkType } from '@shouwang/protocol';

/**
 * Parsers for modem answers. Cellular: 3GPP TS 27.007 (+CSQ §8.5, +CEREG §10.1.22, +COPS §7.3).
 * Satellite: Iridium 9602/9603 ISU AT command reference (+CSQ as 0–5 bars, +CREG).
 * Each returns undefined for a line it cannot read, so the caller counts it instead of throwing.
 */

/** 27.007 §8.5: rssi 0 → ≤ −113 dBm, 1 → −111, 2…30 → −109…−53 in 2 dB steps, 31 → ≥ −51; 99 = unknown. */
export function parseCsq(line: string): { rssiDbm: number } | undefined {
  const m = /^\+CSQ:\s*(\d+),(\d+)$/.exec(line);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n === 99 || n > 31) return undefined;
  return { rssiDbm: -113 + 2 * n };
}

/**
 * 27.007 §10.1.22 <stat>: 1 registered home, 5 registered roaming; 2 searching, 3 denied, 0/4 not.
 * Read answer `+CEREG: <n>,<stat>[,…]`, URC `+CEREG: <stat>[,<tac>,…]` (the tac is a quoted string).
 */
export function parseCereg(line: string, form: 'read' | 'urc'): { registered: boolean; stat: number } | undefined {
  const m = /^\+C(?:E|5G)?REG:\s*(.*)$/.exec(line);
  if (!m?.[1]) return undefined;
  const parts = m[1].split(',');
  const stat = Number(form === 'read' ? parts[1] : parts[0]);
  if (!Number.isInteger(stat) || stat < 0 || stat > 11) return undefined;
  return { registered: stat === 1 || stat === 5, stat };
}

/** 27.007 §7.3 <AcT>: 7 E-UTRAN; 10 E-UTRAN on 5GCN; 11 NR on 5GCN; 12 NG-RAN; 13 E-UTRA–NR dual connectivity. */
const ACT: Record<number, LinkType> = { 7: 'lte', 9: 'lte', 10: 'lte', 11: 'nr', 12: 'nr', 13: 'nr' };

export function parseCops(line: string): { operator?: string; type: LinkType } | undefined {
  const m = /^\+COPS:\s*(\d)(?:,(\d),"([^"]*)"(?:,(\d+))?)?$/.exec(line);
  if (!m) return undefined;
  if (m[3] === undefined) return { type: 'none' };
  const act = m[4] === undefined ? 7 : Number(m[4]);
  const type = ACT[act];
  // 2G/3G access technologies are not ours to use: the unit's modems are LTE/NR only.
  if (!type) return { operator: m[3], type: 'none' };
  return { operator: m[3], type };
}

/** Iridium `+CSQ:<n>` (no space, one field): signal in bars 0–5, each bar ≈ 2 dB above the link threshold. */
export function parseSatelliteCsq(line: string): { bars: number } | undefined {
  const m = /^\+CSQF?:\s*(\d)$/.exec(line);
  if (!m) return undefined;
  const bars = Number(m[1]);
  return bars <= 5 ? { bars } : undefined;
}

/**
 * Bars for a cellular RSSI, on the common handset thresholds (≥ −73 dBm five bars … < −109 none).
 * Ours, not 3GPP's: 27.007 defines the dBm scale, not bars.
 */
export function cellularBars(rssiDbm: number): number {
  if (rssiDbm >= -73) return 5;
  if (rssiDbm >= -83) return 4;
  if (rssiDbm >= -93) return 3;
  if (rssiDbm >= -103) return 2;
  if (rssiDbm >= -109) return 1;
  return 0;
}

/**
 * Iridium reports no dBm; the link schema wants one, so the bars map onto the ISU's documented
 * range (bar 0 below ≈ −120 dBm at the antenna, about 2 dB per bar) and say so in the README.
 */
export function satelliteDbm(bars: number): number {
  return -120 + 2 * bars;
}
