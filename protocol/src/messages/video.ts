import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/** State of the unit's camera stream: whether a live feed runs and where segments go. */
export const VideoStatus = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    state: StringEnum(['off', 'recording', 'live', 'uploading'] as const),
    bitrateKbps: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
    url: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type VideoStatus = Static<typeof VideoStatus>;
