import type { Encoding, LinkType, MediaKind, PowerState, UplinkKind } from '@shouwang/protocol';
import { NOMINAL_RATE } from './bulk-lane.ts';

/**
 * What may go up a link, and how. Cellular carries everything by priority in JSON (readable at
 * the gateway, cheap enough at a few MB a month). Satellite carries only alarms and the digest
 * (whole status in one SBD-sized message), in the compact encoding, inside a daily byte budget of which a share is held
 * back for alarms: a day of status reports may never starve the alarm that comes at 23:59.
 */
export interface LinkPolicy {
  encoding: Encoding;
  /** Kinds the link may carry; undefined = all. */
  kinds?: readonly UplinkKind[];
  /** Bytes per UTC day (MQTT PUBLISH packets incl. headers); undefined = unmetered. */
  dailyBudget?: number;
  /** Of the daily budget, this much is usable only by alarms. */
  alarmReserve?: number;
  /** Media the link may carry (the bulk lane); undefined = all. */
  media?: readonly MediaKind[];
  /** What the link carries before the bulk lane has measured it, B/s. */
  nominalRate: number;
}

export interface PolicyInputs {
  link: LinkType;
  powerState: PowerState;
  satelliteBudgetBytes: number;
  /** Compact JSON-free encoding also on cellular (saves ~75 % of telemetry bytes). */
  compactOnCellular: boolean;
}

export const SATELLITE_KINDS: readonly UplinkKind[] = ['alarm', 'digest'];
/** No video over satellite: stills only, inside the day's budget. */
export const SATELLITE_MEDIA: readonly MediaKind[] = ['snapshot'];

export function linkPolicy(i: PolicyInputs): LinkPolicy {
  // The satellite-digest rung of the ladder keeps a cellular unit to the satellite diet too.
  if (i.link === 'satellite' || i.powerState === 'satellite-digest' || i.powerState === 'deep-sleep') {
    return {
      encoding: 'compact',
      kinds: SATELLITE_KINDS,
      dailyBudget: i.satelliteBudgetBytes,
      alarmReserve: Math.floor(i.satelliteBudgetBytes / 4),
      media: SATELLITE_MEDIA,
      nominalRate: NOMINAL_RATE[i.link === 'satellite' ? 'satellite' : i.link],
    };
  }
  return { encoding: i.compactOnCellular ? 'compact' : 'json', nominalRate: NOMINAL_RATE[i.link] };
}

/** May a message of `bytes` go now, given what the day has used? */
export function fitsBudget(policy: LinkPolicy, kind: UplinkKind, usedToday: number, bytes: number): boolean {
  if (policy.dailyBudget === undefined) return true;
  const cap = kind === 'alarm' ? policy.dailyBudget : policy.dailyBudget - (policy.alarmReserve ?? 0);
  return usedToday + bytes <= cap;
}

/** MQTT 3.1.1 §3.3: fixed header (1 B + remaining-length varint) + topic (2 B length + text) + packet id (QoS > 0) + payload. */
export function publishPacketBytes(topic: string, payloadBytes: number, qos: 0 | 1): number {
  const remaining = 2 + Buffer.byteLength(topic) + (qos > 0 ? 2 : 0) + payloadBytes;
  const varint = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + varint + remaining;
}

export const DAY_MS = 86_400_000;

export function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS);
}
