import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';
import { Sha256Hex } from './media.ts';

export const ALARM_KINDS = ['tamper', 'tilt', 'motion', 'low-battery', 'over-temperature', 'geofence', 'fire', 'power-loss'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];
export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * An alarm transition. `id` is stable for one occurrence from raise to clear, so repeated
 * reports of the same thing deduplicate into one ticket downstream.
 */
export const Alarm = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$' }),
    kind: StringEnum(ALARM_KINDS),
    severity: StringEnum(SEVERITIES),
    state: StringEnum(['raised', 'cleared'] as const),
    value: Type.Optional(Type.Number()),
    lat: Type.Optional(Scaled(1e6, { minimum: -90, maximum: 90 })),
    lon: Type.Optional(Scaled(1e6, { minimum: -180, maximum: 180 })),
    message: Type.Optional(Type.String({ maxLength: 200 })),
    evidence: Type.Optional({ ...Sha256Hex, description: 'Head of the evidence chain when raised (see `evidence`)' }),
  },
  { additionalProperties: false },
);
export type Alarm = Static<typeof Alarm>;
