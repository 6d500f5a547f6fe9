import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';

export const LINK_TYPES = ['lte', 'nr', 'satellite', 'none'] as const;
export type LinkType = (typeof LINK_TYPES)[number];

/** Connectivity as the modem reports it (3GPP TS 27.007 +CSQ/+COPS, or the satellite modem's own). */
export const Link = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    type: StringEnum(LINK_TYPES, { description: 'Access technology: LTE (4G), NR (5G), satellite' }),
    rssiDbm: Type.Integer({ minimum: -150, maximum: 0, description: 'Received signal strength, dBm' }),
    bars: Type.Integer({ minimum: 0, maximum: 5, description: "0–5 bars from the access technology's own thresholds" }),
    operator: Type.Optional(Type.String({ maxLength: 32, description: 'Network operator name (+COPS)' })),
    bytesMonth: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Bytes sent and received this calendar month, as the agent counts them' }),
    ),
  },
  { additionalProperties: false },
);
export type Link = Static<typeof Link>;
