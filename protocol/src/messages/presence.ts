import { type Static, Type } from '@sinclair/typebox';
import { StringEnum, Timestamp } from '../schema-kit.ts';

/**
 * Retained on `presence`. The unit publishes `online` on every connect and registers
 * `offline` as its MQTT last will, so a dead link is announced by the broker.
 */
export const PART_STATES = ['ok', 'absent', 'failed'] as const;

export const Presence = Type.Object(
  {
    state: StringEnum(['online', 'offline'] as const),
    ts: Timestamp,
    agent: Type.Optional(Type.String({ maxLength: 32, description: 'Agent version' })),
    board: Type.Optional(Type.String({ maxLength: 16, description: 'Board definition id, e.g. pi4' })),
    /** Latest time the unit promises to be heard from again (planned sleep aware liveness). */
    nextContactBy: Type.Optional(Timestamp),
    /**
     * The parts the agent found at start: `ok`, `absent` (not fitted, by config) or `failed` (fitted
     * but not working, e.g. the IO plugin not installed). The serial parts' live state is in `link.ports`.
     */
    parts: Type.Optional(
      Type.Object(
        { io: StringEnum(PART_STATES, { description: 'Power monitors and sensors (IO plugin)' }), camera: StringEnum(PART_STATES) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Presence = Static<typeof Presence>;
