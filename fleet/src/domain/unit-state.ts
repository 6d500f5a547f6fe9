import {
  type Alarm,
  type CommissionCheck,
  type DecodedMessage,
  type Digest,
  type Link,
  type Location,
  POWER_STATES,
  type Power,
  type PowerState,
  type Presence,
  type Telemetry,
  type UnitEvent,
  type UplinkKind,
} from '@shouwang/protocol';
import type { Liveness } from './liveness.ts';
import type { LinkOutlook, LocationOutlook, PowerOutlook } from './outlook.ts';

/**
 * The fleet's picture of one unit, built only from protocol messages. "Latest" is the reading
 * with the newest event time, never the last one to arrive: readings back-filled after an
 * outage come late and out of order.
 *
 * Presence is the exception: the `offline` last will is composed when the unit connects (so its
 * `ts` is that of the connect) and published by the broker when the unit dies, so for presence
 * the last message received is the truth. Its next-contact promise is not: the newest promise
 * by event time stands (a digest makes one too), so a will written at the connect does not
 * undo the promise the unit made since (nor its word that it is restarting into another release).
 *
 * Charge and rung come from every message that carries them, by event time: a power status or
 * digest in full, a power-state event (rung and the charge that made it), a low-battery alarm's
 * value and telemetry's `soc_pct` series over the fields of the last full status.
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
  /** The agent version the unit last reported running (its `ota` report), by event time. */
  running: { version: string; ts: number } | null;
}

/** The unit's last commissioning run, as the card shows it. */
export interface CommissioningSummary {
  at: number;
  passed: boolean;
  failed: CommissionCheck[];
  /** Checks that could not be judged at the hour of the run (the charge in the dark). */
  pending: CommissionCheck[];
  /** Checks the run left pending that the unit judged later by itself (the charge at first light), with when. */
  judged?: { check: CommissionCheck; pass: boolean; at: number }[];
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
  return { id, online: false, lastSeen: null, presence: null, power: null, location: null, link: null, running: null };
}

/** Applies one message; returns the new view, or the same object when nothing visible changed. */
export function applyMessage(unit: UnitState, m: DecodedMessage, receivedAt: number): UnitState {
  if (m.type === 'uplink' && m.kind === 'presence') {
    const online = m.payload.state === 'online';
    const held = unit.presence;
    // A restart's word is part of the promise while the unit stays offline: the will can land after
    // the unit's own `offline`; an `online` ends the restart.
    const restarting = held?.restarting && !online ? { restarting: held.restarting } : {};
    const promise =
      held?.nextContactBy !== undefined && held.ts > m.payload.ts ? { ts: held.ts, nextContactBy: held.nextContactBy, ...restarting } : {};
    // The will is the broker speaking for a dead unit: it is not a sign of life.
    return { ...unit, presence: { ...m.payload, ...promise }, online, lastSeen: online ? receivedAt : unit.lastSeen };
  }
  if (m.type === 'uplink' && m.kind === 'digest') {
    const d = digestParts(m.payload);
    let next: UnitState = { ...unit, lastSeen: receivedAt };
    next = newest(next, 'power', d.power);
    if (d.location) next = newest(next, 'location', d.location);
    if (d.link) next = newest(next, 'link', d.link);
    return promised(next, m.payload);
  }
  if (m.type === 'uplink' && m.kind === 'event') return charged(unit, eventCharge(m.payload), receivedAt);
  if (m.type === 'uplink' && m.kind === 'telemetry') return charged(unit, telemetryCharge(m.payload), receivedAt);
  if (m.type === 'uplink' && m.kind === 'alarm') return charged(unit, alarmCharge(m.payload), receivedAt);
  if (m.type === 'uplink' && m.kind === 'ota') {
    const held = unit.running;
    const running = held && held.ts > m.payload.ts ? held : { version: m.payload.running, ts: m.payload.ts };
    return { ...unit, lastSeen: receivedAt, running };
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

/** Charge and rung at an event time, from a message that is not a full power status. */
interface Charge {
  ts: number;
  soc?: number;
  state?: PowerState;
}

/**
 * Laid over the last full status when newer; before the first full status there is nothing to lay
 * it on. The status's own time-to-empty is counted down to the new time, so the empty time it
 * forecast stays where it was.
 */
function charged(unit: UnitState, c: Charge | undefined, receivedAt: number): UnitState {
  const next = { ...unit, lastSeen: receivedAt };
  const p = unit.power;
  if (!c || !p || p.ts >= c.ts) return next;
  const power: Power = { ...p, ts: c.ts, ...(c.soc === undefined ? {} : { soc: c.soc }), ...(c.state ? { state: c.state } : {}) };
  if (p.timeToEmptyH !== undefined) power.timeToEmptyH = Math.max(0, p.timeToEmptyH - (c.ts - p.ts) / 3_600_000);
  return { ...next, power };
}

function eventCharge(e: UnitEvent): Charge | undefined {
  if (e.kind !== 'power-state') return undefined;
  const state = POWER_STATES.find((s) => s === e.to);
  return state || e.soc !== undefined
    ? { ts: e.ts, ...(state ? { state } : {}), ...(e.soc === undefined ? {} : { soc: e.soc }) }
    : undefined;
}

/** A low-battery alarm's value is the charge that raised or cleared it; alarms go first, on any link. */
function alarmCharge(a: Alarm): Charge | undefined {
  return a.kind === 'low-battery' && a.value !== undefined && a.value >= 0 && a.value <= 100 ? { ts: a.ts, soc: a.value } : undefined;
}

/** The newest `soc_pct` sample of a batch (sample i was taken at ts + i × periodMs). */
function telemetryCharge(t: Telemetry): Charge | undefined {
  const series = t.series.soc_pct;
  const soc = series?.at(-1);
  if (!series || soc === undefined || soc < 0 || soc > 100) return undefined;
  return { ts: t.ts + (series.length - 1) * t.periodMs, soc };
}

/** A digest's promise counts like presence's, when it is the newer word. */
function promised(unit: UnitState, d: Digest): UnitState {
  const by = d.nextContactBy;
  if (by === undefined || (unit.presence && unit.presence.ts > d.ts)) return unit;
  const presence: Presence = { ...(unit.presence ?? { state: 'online' }), ts: d.ts, nextContactBy: by };
  return { ...unit, presence };
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
