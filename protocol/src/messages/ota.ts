import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/** Progress of an over-the-air update as the unit reports it (signed, A/B, health-checked). */
export const OtaStatus = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    rollout: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    version: Type.String({ maxLength: 32 }),
    phase: StringEnum([
      'downloading',
      'verifying',
      'installing',
      'rebooting',
      'health-check',
      'committed',
      'rolled-back',
      'failed',
    ] as const),
    progress: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type OtaStatus = Static<typeof OtaStatus>;
