import { type Static, Type } from '@sinclair/typebox';
import { Seq, Timestamp } from '../schema-kit.ts';

/**
 * A batch of regularly sampled sensor readings, column per metric:
 * sample i of every series was taken at `ts + i × periodMs`. Batching amortises MQTT and
 * TCP/IP overhead, which dominate single-sample messages.
 */
export const Telemetry = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    periodMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
    series: Type.Record(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_]{0,31}$' }), Type.Array(Type.Number(), { maxItems: 3600 }), {
      maxProperties: 32,
    }),
  },
  { additionalProperties: false },
);
export type Telemetry = Static<typeof Telemetry>;
