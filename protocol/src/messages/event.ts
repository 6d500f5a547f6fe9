import { type Static, Type } from '@sinclair/typebox';
import { Scaled, Seq, StringEnum, Timestamp } from '../schema-kit.ts';
import { CommissionItem } from './command.ts';

/** Something the unit decided or noticed that is not an alarm, e.g. a power-state change with its reason. */
export const UnitEvent = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    kind: StringEnum(['power-state', 'boot', 'config', 'commission', 'fault'] as const),
    from: Type.Optional(Type.String({ maxLength: 32 })),
    to: Type.Optional(Type.String({ maxLength: 32 })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
    soc: Type.Optional(
      Scaled(10, {
        minimum: 0,
        maximum: 100,
        description: 'State of charge at the decision, %: a power-state change carries the charge that made it',
      }),
    ),
    item: Type.Optional(
      Type.Object(CommissionItem.properties, {
        additionalProperties: false,
        description:
          "A `commission` event from the unit's own re-check of a check its run left pending (the charge at first light): the commission item as judged, with `judgedAt`",
      }),
    ),
  },
  { additionalProperties: false },
);
export type UnitEvent = Static<typeof UnitEvent>;
