import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/** Power ladder, most capable first. Every subsystem obeys the current state. */
export const POWER_STATES = ['full', 'alarm-camera', 'scheduled-modem', 'satellite-digest', 'deep-sleep'] as const;
export type PowerState = (typeof POWER_STATES)[number];

export const Power = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    /** State of charge, % of temperature-derated capacity. */
    soc: Scaled(10, { minimum: 0, maximum: 100 }),
    batteryV: Scaled(100, { minimum: 0, maximum: 100 }),
    solarW: Scaled(10, { minimum: 0, maximum: 10000 }),
    windW: Scaled(10, { minimum: 0, maximum: 10000 }),
    loadW: Scaled(10, { minimum: 0, maximum: 10000 }),
    state: StringEnum(POWER_STATES),
    batteryTempC: Type.Optional(Scaled(10, { minimum: -60, maximum: 100 })),
    /** Hours until empty at the current net draw; absent while charging. */
    timeToEmptyH: Type.Optional(Scaled(10, { minimum: 0, maximum: 100000 })),
    /** Days of autonomy forecast from net power and the harvest trend. */
    autonomyD: Type.Optional(Scaled(10, { minimum: 0, maximum: 10000 })),
  },
  { additionalProperties: false },
);
export type Power = Static<typeof Power>;
