import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';

/** Power ladder, most capable first. Every subsystem obeys the current state. */
export const POWER_STATES = ['full', 'alarm-camera', 'scheduled-modem', 'satellite-digest', 'deep-sleep'] as const;
export type PowerState = (typeof POWER_STATES)[number];

export const Power = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    soc: Scaled(10, { minimum: 0, maximum: 100, description: 'State of charge, % of temperature-derated capacity' }),
    batteryV: Scaled(100, { minimum: 0, maximum: 100, description: 'Battery terminal voltage, V' }),
    solarW: Scaled(10, { minimum: 0, maximum: 10000, description: 'Solar panel output, W' }),
    windW: Scaled(10, { minimum: 0, maximum: 10000, description: 'Wind turbine output, W' }),
    loadW: Scaled(10, { minimum: 0, maximum: 10000, description: 'Total load, W' }),
    state: StringEnum(POWER_STATES, { description: 'Current rung of the power ladder' }),
    batteryTempC: Type.Optional(Scaled(10, { minimum: -60, maximum: 100, description: 'Battery temperature, °C' })),
    timeToEmptyH: Type.Optional(
      Scaled(10, { minimum: 0, maximum: 100000, description: 'Hours until empty at the current net draw; absent while charging' }),
    ),
    autonomyD: Type.Optional(
      Scaled(10, { minimum: 0, maximum: 10000, description: 'Days of autonomy forecast from net power and the harvest trend' }),
    ),
  },
  { additionalProperties: false },
);
export type Power = Static<typeof Power>;
