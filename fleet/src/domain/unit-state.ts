import type { DecodedMessage, Link, Location, Power, Presence, UplinkKind } from '@shouwang/protocol';
import type { Liveness } from './liveness.ts';
import type { LinkOutlook, LocationOutlook, PowerOutlook } from './outlook.ts';

/**
 * The fleet's picture of one unit, built only from protocol messages. "Latest" is the reading
 * with the newest event time, never the last one to arrive: readings back-filled after an
 * outage come late and out of order.
 *
 * Presence is the exception: the `offline` last will is composed when the unit connects (so its
 * `ts` is that of the connect) and published by the broker when the unit dies, so for presence
 * the last message received is the truth.
 */
export interface UnitState {
  id: string;
  online: boolean;
  /** Arrival time of the last message of any kind, ms. */
  lastSeen: number | null;
  presence: Presence | null;
  power: Power | null;
  location: Location | null;
  link: Link | null;
}

/** What the API and the dashboard show: the state plus what it means at the time of asking. */
export interface UnitView extends UnitState {
  liveness: Liveness;
  outlook: { power: PowerOutlook; location: LocationOutlook; link: LinkOutlook };
}

type Tracked = Extract<UplinkKind, 'presence' | 'power' | 'location' | 'link'>;
const TRACKED: ReadonlySet<string> = new Set<Tracked>(['presence', 'power', 'location', 'link']);

export function emptyUnit(id: string): UnitState {
  return { id, online: false, lastSeen: null, presence: null, power: null, location: null, link: null };
}

/** Applies one message; returns the new view, or the same object when nothing visible changed. */
export function applyMessage(unit: UnitState, m: DecodedMessage, receivedAt: number): UnitState {
  if (m.type === 'uplink' && m.kind === 'presence') {
    const online = m.payload.state === 'online';
    // The will is the broker speaking for a dead unit: it is not a sign of life.
    return { ...unit, presence: m.payload, online, lastSeen: online ? receivedAt : unit.lastSeen };
  }
  if (m.type !== 'uplink' || !TRACKED.has(m.kind)) return { ...unit, lastSeen: receivedAt };
  const kind = m.kind as Exclude<Tracked, 'presence'>;
  const current = unit[kind];
  if (current && current.ts > m.payload.ts) return { ...unit, lastSeen: receivedAt };
  return { ...unit, [kind]: m.payload, lastSeen: receivedAt };
}
