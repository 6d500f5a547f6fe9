import { type Static, Type } from '@sinclair/typebox';
import { StringEnum, Timestamp } from '../schema-kit.ts';

/**
 * Retained on `presence`. The unit publishes `online` on every connect and registers
 * `offline` as its MQTT last will, so a dead link is announced by the broker.
 */
export const Presence = Type.Object(
  {
    state: StringEnum(['online', 'offline'] as const),
    ts: Timestamp,
    agent: Type.Optional(Type.String({ maxLength: 32, description: 'Agent version' })),
    board: Type.Optional(Type.String({ maxLength: 16, description: 'Board definition id, e.g. pi4' })),
    /** Latest time the unit promises to be heard from again (planned sleep aware liveness). */
    nextContactBy: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type Presence = Static<typeof Presence>;
