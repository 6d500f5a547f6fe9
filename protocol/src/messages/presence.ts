import { type Static, Type } from '@sinclair/typebox';
import { StringEnum, Timestamp } from '../schema-kit.ts';
import { ReleaseVersion } from './ota.ts';

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
     * On the `offline` said just before the agent exits to start another slot (an update, or its
     * rollback): the release it restarts into, and the end of the update's health window, by which
     * it is back (then `nextContactBy` is that time too). A restart is not a sleep.
     */
    restarting: Type.Optional(
      Type.Object(
        { into: ReleaseVersion, by: Timestamp },
        { additionalProperties: false, description: 'Restarting into another release, back by `by`' },
      ),
    ),
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
