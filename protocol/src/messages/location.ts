import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/**
 * The unit's position. Without a fix (`fix: none`: no receiver data, no satellites, or a fix
 * that aged out) the message carries no position fields at all: an old position is history, not
 * where the unit is.
 */
export const Location = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    lat: Type.Optional(
      Scaled(1e6, {
        minimum: -90,
        maximum: 90,
        description: 'WGS84 latitude, degrees (compact keeps 1e-6° ≈ 0.1 m); absent without a fix',
      }),
    ),
    lon: Type.Optional(Scaled(1e6, { minimum: -180, maximum: 180, description: 'WGS84 longitude, degrees; absent without a fix' })),
    fix: StringEnum(['none', '2d', '3d'] as const, { description: 'GNSS fix mode' }),
    altM: Type.Optional(Scaled(10, { minimum: -1000, maximum: 20000, description: 'Altitude above mean sea level, m' })),
    speedMps: Type.Optional(Scaled(10, { minimum: 0, maximum: 1000, description: 'Ground speed, m/s' })),
    sats: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Satellites used in the fix' })),
    hdop: Type.Optional(Scaled(10, { minimum: 0, maximum: 100, description: 'Horizontal dilution of precision' })),
  },
  { additionalProperties: false },
);
export type Location = Static<typeof Location>;

/** The position a location message carries, if it has one (a fix and both coordinates). */
export function positionOf(l: { fix: string; lat?: number; lon?: number }): { lat: number; lon: number } | undefined {
  return l.fix !== 'none' && l.lat !== undefined && l.lon !== undefined ? { lat: l.lat, lon: l.lon } : undefined;
}
