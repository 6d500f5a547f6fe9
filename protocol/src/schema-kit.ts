import { type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

/**
 * Schema building blocks with the metadata the compact codec reads.
 * `scale` on a number means: the compact encoding sends round(value × scale) as an integer.
 */

/** A closed set of strings; the compact codec sends the index instead of the text. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

/** The members of a StringEnum schema, or undefined for any other schema. */
export function enumValues(schema: unknown): string[] | undefined {
  const anyOf = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (!anyOf || anyOf.length === 0 || !anyOf.every((m) => typeof m.const === 'string')) return undefined;
  return anyOf.map((m) => m.const as string);
}

export const UnitId = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{1,31}$',
  description: 'Unit id: 2–32 lower-case letters, digits and dashes',
});

/** Event time in ms since the epoch; the compact form carries whole seconds. */
export const Timestamp = Type.Integer({ minimum: 0, maximum: 8.64e15, scale: 0.001, description: 'Event time, ms since epoch' });

/** Per-unit message sequence, monotonic across reboots; (unit, seq) deduplicates at ingest. */
export const Seq = Type.Integer({ minimum: 0, maximum: 0xffffffff, description: 'Per-unit sequence number' });

export function Scaled(scale: number, options: { minimum?: number; maximum?: number; description?: string } = {}) {
  return Type.Number({ ...options, scale });
}

export type { TSchema };
