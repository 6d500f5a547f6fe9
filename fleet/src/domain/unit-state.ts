import type { CommissionCheck, DecodedMessage, Digest, Link, Location, Power, Presence, UplinkKind } from '@shouwang/protocol';
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

/** The unit's last commissioning run, as the card shows it. */
export interface CommissioningSummary {
  at: number;
  passed: boolean;
  failed: CommissionCheck[];
}

/** What the API and the dashboard show: the state plus what it means at the time of asking. */
export interface UnitView extends UnitState {
  liveness: Liveness;
  outlook: { power: PowerOutlook; location: LocationOutlook; link: LinkOutlook };
  commissioning: CommissioningSummary | null;
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
  if (m.type === 'uplink' && m.kind === 'digest') {
    const d = digestParts(m.payload);
    let next: UnitState = { ...unit, lastSeen: receivedAt };
    next = newest(next, 'power', d.power);
    if (d.location) next = newest(next, 'location', d.location);
    if (d.link) next = newest(next, 'link', d.link);
    return next;
  }
  if (m.type !== 'uplink' || !TRACKED.has(m.kind)) return { ...unit, lastSeen: receivedAt };
  const kind = m.kind as Exclude<Tracked, 'presence'>;
  return newest({ ...unit, lastSeen: receivedAt }, kind, m.payload as Power & Location & Link);
}

type StatusKind = Exclude<Tracked, 'presence'>;

/** Event time decides: a reading older than the one held is history, not news. */
function newest<K extends StatusKind>(unit: UnitState, kind: K, reading: NonNullable<UnitState[K]>): UnitState {
  const current = unit[kind];
  return current && current.ts > reading.ts ? unit : { ...unit, [kind]: reading };
}

/** A satellite digest carries the status kinds' own fields; as readings they share its seq and time. */
export function digestParts(d: Digest): { power: Power; location?: Location; link?: Link } {
  const at = { seq: d.seq, ts: d.ts };
  return {
    power: { ...at, ...d.power },
    ...(d.location ? { location: { ...at, ...d.location } } : {}),
    ...(d.link ? { link: { ...at, ...d.link } } : {}),
  };
}
