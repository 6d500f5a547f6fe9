import { type Digest, type Link, type Location, type Power, positionOf } from '@shouwang/protocol';
import { distanceM } from './alarms.ts';

/**
 * Frugal status reporting (conventions §13, after balena-supervisor's `isSignificantChange`): a
 * status goes out when it differs meaningfully from the last one sent, or when the last one is
 * older than the heartbeat. Battery noise and GNSS jitter then cost no bytes; the per-minute
 * detail travels in batched telemetry instead.
 */
type PowerStatus = Omit<Power, 'seq' | 'ts'>;
type LocationStatus = Omit<Location, 'seq'>;
type LinkStatus = Omit<Link, 'seq'>;

export function powerSignificant(prev: PowerStatus, next: PowerStatus): boolean {
  const w = (a: number, b: number) => Math.abs(a - b) >= Math.max(2, 0.25 * Math.max(a, b));
  return (
    prev.state !== next.state ||
    Math.abs(prev.soc - next.soc) >= 2 ||
    Math.abs(prev.batteryV - next.batteryV) >= 0.2 ||
    w(prev.solarW, next.solarW) ||
    w(prev.windW, next.windW) ||
    w(prev.loadW, next.loadW) ||
    (prev.timeToEmptyH === undefined) !== (next.timeToEmptyH === undefined)
  );
}

/** 25 m: well above a static receiver's jitter (a few m with HDOP ≈ 1), well below the geofence radius. */
export function locationSignificant(prev: LocationStatus, next: LocationStatus): boolean {
  const a = positionOf(prev);
  const b = positionOf(next);
  if (prev.fix !== next.fix) return true;
  if (!a || !b) return a !== b;
  return distanceM(a.lat, a.lon, b.lat, b.lon) >= 25;
}

export function linkSignificant(prev: LinkStatus, next: LinkStatus): boolean {
  return (
    prev.type !== next.type ||
    prev.bars !== next.bars ||
    prev.operator !== next.operator ||
    prev.registered !== next.registered ||
    prev.ports?.gps.state !== next.ports?.gps.state ||
    prev.ports?.modem.state !== next.ports?.modem.state
  );
}

/** A digest is worth a satellite message when its power is, when the open alarms change, or when the unit moved. */
export function digestSignificant(prev: Omit<Digest, 'seq'>, next: Omit<Digest, 'seq'>): boolean {
  const ids = (d: Omit<Digest, 'seq'>) => `${d.alarms.map((a) => a.id).join(',')}+${d.alarmsMore ?? 0}`;
  const moved =
    prev.location !== undefined && next.location !== undefined
      ? locationSignificant({ ts: prev.ts, ...prev.location }, { ts: next.ts, ...next.location })
      : (prev.location === undefined) !== (next.location === undefined);
  return powerSignificant(prev.power, next.power) || ids(prev) !== ids(next) || moved;
}

/** Send when there is nothing sent yet, when the change is significant, or at the heartbeat. */
export function shouldReport<T extends { ts: number }>(
  last: T | undefined,
  next: T,
  significant: (a: T, b: T) => boolean,
  heartbeatMs: number,
): boolean {
  return last === undefined || next.ts - last.ts >= heartbeatMs || significant(last, next);
}
