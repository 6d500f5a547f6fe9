import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

export const Location = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    /** WGS84 degrees; 1e-6° ≈ 0.1 m is kept in the compact form. */
    lat: Scaled(1e6, { minimum: -90, maximum: 90 }),
    lon: Scaled(1e6, { minimum: -180, maximum: 180 }),
    fix: StringEnum(['none', '2d', '3d'] as const),
    altM: Type.Optional(Scaled(10, { minimum: -1000, maximum: 20000 })),
    speedMps: Type.Optional(Scaled(10, { minimum: 0, maximum: 1000 })),
    sats: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    hdop: Type.Optional(Scaled(10, { minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type Location = Static<typeof Location>;
