import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';

export const LINK_TYPES = ['lte', 'nr', 'satellite', 'none'] as const;
export type LinkType = (typeof LINK_TYPES)[number];
/** A cellular link as people name it (a technician says 4G, not LTE); undefined for satellite or none. */
export const CELLULAR_GENERATION: Partial<Record<LinkType, string>> = { lte: '4G', nr: '5G' };

/**
 * A serial part's port as the agent sees it: `open` and talking; `silent` (open, nothing readable
 * for a while); `closed` (lost, being reopened with backoff); `failed` (cannot be opened: no such
 * device, permission); `absent` (configured off).
 */
export const PORT_STATES = ['open', 'silent', 'closed', 'failed', 'absent'] as const;
export type PortState = (typeof PORT_STATES)[number];

const Count = Type.Integer({ minimum: 0 });

export const PortHealth = Type.Object(
  {
    state: StringEnum(PORT_STATES),
    path: Type.Optional(Type.String({ maxLength: 64, description: 'Device path, e.g. /dev/ttyUSB1' })),
    reopens: Count,
    /** Input dropped by the driver since start, by reason (NMEA: framing, checksum…; AT: timeout, late, unparsable…). */
    drops: Type.Record(Type.String({ pattern: '^[a-z-]{1,16}$' }), Count, { maxProperties: 16 }),
  },
  { additionalProperties: false },
);
export type PortHealth = Static<typeof PortHealth>;

/** Connectivity as the modem reports it (3GPP TS 27.007 +CSQ/+COPS, or the satellite modem's own). */
export const Link = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    type: StringEnum(LINK_TYPES, { description: 'Access technology: LTE (4G), NR (5G), satellite' }),
    rssiDbm: Type.Optional(
      Type.Integer({ minimum: -150, maximum: 0, description: 'Received signal strength, dBm; absent when the modem did not say' }),
    ),
    bars: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 5, description: "0–5 bars from the access technology's own thresholds; absent when unknown" }),
    ),
    operator: Type.Optional(Type.String({ maxLength: 32, description: 'Network operator name (+COPS)' })),
    bytesMonth: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Bytes sent and received this calendar month, as the agent counts them' }),
    ),
    registered: Type.Optional(Type.Boolean({ description: 'Registered on the network (+CEREG/+CREG); absent when unknown' })),
    /** The GPS and modem serial ports and their drivers' drop counters. */
    ports: Type.Optional(Type.Object({ gps: PortHealth, modem: PortHealth }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type Link = Static<typeof Link>;
