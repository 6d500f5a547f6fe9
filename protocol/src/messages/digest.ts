import { type Static, Type } from '@sinclair/typebox';
import { Seq, Timestamp } from '../schema-kit.ts';
import { Alarm } from './alarm.ts';
import { Link } from './link.ts';
import { Location } from './location.ts';
import { Power } from './power.ts';

/** At most this many open alarms ride in one digest; the rest are counted in `alarmsMore`. */
export const DIGEST_MAX_ALARMS = 6;
/** An Iridium SBD mobile-originated message carries at most 340 bytes: a digest must fit in one. */
export const SBD_MO_BYTES = 340;

/**
 * The unit's whole status in one message, for links paid by the message (satellite) and for the
 * lowest power rungs: power, last fix, link, and the alarms still open. Shapes are the other
 * kinds' own fields (picked, never redefined), so a reader updates the same state from either.
 */
export const Digest = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    power: Type.Omit(Power, ['seq', 'ts']),
    location: Type.Optional(Type.Pick(Location, ['lat', 'lon', 'fix'])),
    link: Type.Optional(Type.Pick(Link, ['type', 'rssiDbm', 'bars', 'bytesMonth'])),
    alarms: Type.Array(
      Type.Object({ ...Type.Pick(Alarm, ['id', 'kind', 'severity']).properties, since: Timestamp }, { additionalProperties: false }),
      { maxItems: DIGEST_MAX_ALARMS },
    ),
    alarmsMore: Type.Optional(Type.Integer({ minimum: 1, description: 'Open alarms left out of `alarms` for lack of room' })),
    nextContactBy: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type Digest = Static<typeof Digest>;
