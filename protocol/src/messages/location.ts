import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

export const Location = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    lat: Scaled(1e6, { minimum: -90, maximum: 90, description: 'WGS84 latitude, degrees (compact keeps 1e-6° ≈ 0.1 m)' }),
    lon: Scaled(1e6, { minimum: -180, maximum: 180, description: 'WGS84 longitude, degrees' }),
    fix: StringEnum(['none', '2d', '3d'] as const, { description: 'GNSS fix mode' }),
    altM: Type.Optional(Scaled(10, { minimum: -1000, maximum: 20000, description: 'Altitude above mean sea level, m' })),
    speedMps: Type.Optional(Scaled(10, { minimum: 0, maximum: 1000, description: 'Ground speed, m/s' })),
    sats: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Satellites used in the fix' })),
    hdop: Type.Optional(Scaled(10, { minimum: 0, maximum: 100, description: 'Horizontal dilution of precision' })),
  },
  { additionalProperties: false },
);
export type Location = Static<typeof Location>;
