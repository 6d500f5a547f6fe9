import type { Static, TSchema } from '@sinclair/typebox';
import { Alarm } from './messages/alarm.ts';
import { Digest } from './messages/digest.ts';
import { UnitEvent } from './messages/event.ts';
import { Evidence } from './messages/evidence.ts';
import { Link } from './messages/link.ts';
import { Location } from './messages/location.ts';
import { OtaStatus } from './messages/ota.ts';
import { Power } from './messages/power.ts';
import { Presence } from './messages/presence.ts';
import { Telemetry } from './messages/telemetry.ts';
import { VideoStatus } from './messages/video.ts';
import type { UplinkKind } from './topics.ts';

export interface MessageSpec {
  schema: TSchema;
  /** Published retained, so a late subscriber sees the last value at once. */
  retain: boolean;
  qos: 0 | 1;
  /** Largest payload accepted for this kind, in bytes, in either encoding. */
  maxBytes: number;
  /** Upload priority on the unit: lower goes first; alarms always first. */
  priority: 0 | 1 | 2 | 3;
  description: string;
}

/** Topic kind → payload schema and delivery rules. The one place a payload shape is defined. */
export const UPLINK = {
  presence: { schema: Presence, retain: true, qos: 1, maxBytes: 256, priority: 1, description: 'online/offline; offline is the last will' },
  power: { schema: Power, retain: true, qos: 1, maxBytes: 512, priority: 2, description: 'battery, harvest, load, power state' },
  location: { schema: Location, retain: true, qos: 1, maxBytes: 512, priority: 2, description: 'GNSS fix' },
  link: { schema: Link, retain: true, qos: 1, maxBytes: 1024, priority: 2, description: 'modem link type and signal' },
  telemetry: { schema: Telemetry, retain: false, qos: 1, maxBytes: 64 * 1024, priority: 2, description: 'batched sensor series' },
  alarm: { schema: Alarm, retain: false, qos: 1, maxBytes: 1024, priority: 0, description: 'alarm raised or cleared' },
  event: { schema: UnitEvent, retain: false, qos: 1, maxBytes: 1024, priority: 1, description: 'power-state changes and other decisions' },
  ota: { schema: OtaStatus, retain: true, qos: 1, maxBytes: 1024, priority: 1, description: 'over-the-air update progress' },
  video: {
    schema: VideoStatus,
    retain: true,
    qos: 1,
    maxBytes: 1024,
    priority: 2,
    description: 'camera mode on the ladder, ring and upload backlog',
  },
  digest: {
    schema: Digest,
    retain: true,
    qos: 1,
    // JSON on a test bench is larger; on satellite the unit sends it compact, within SBD_MO_BYTES.
    maxBytes: 1024,
    priority: 1,
    description: 'whole status and open alarms in one satellite-sized message',
  },
  evidence: {
    schema: Evidence,
    retain: false,
    qos: 1,
    maxBytes: 16 * 1024,
    priority: 1,
    description: "an alarm's hash-chained evidence manifest (snapshot, clip, readings, position)",
  },
} as const satisfies Record<UplinkKind, MessageSpec>;

export type UplinkPayload<K extends UplinkKind> = Static<(typeof UPLINK)[K]['schema']>;

/** Largest MQTT packet the gateway accepts; bigger ones are refused before parsing. */
export const MAX_PACKET_BYTES = 256 * 1024;
