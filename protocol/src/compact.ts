import type { TSchema } from '@sinclair/typebox';
import { enumValues } from './schema-kit.ts';

/**
 * The compact form of a payload, for thin links: objects become positional arrays in schema
 * property order (absent optionals are null, trailing nulls dropped), string enums become their
 * index, and numbers carrying `scale` become round(value × scale) integers. The result is then
 * CBOR-encoded (RFC 8949), so a status that is ~160 B of JSON is a few dozen bytes.
 * Schemas may only gain optional properties at the end, which keeps old payloads decodable.
 */

type Json = unknown;

interface SchemaNode {
  type?: string;
  scale?: number;
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

function node(schema: TSchema): SchemaNode {
  return schema as unknown as SchemaNode;
}

export function pack(schema: TSchema, value: Json): Json {
  const s = node(schema);
  if (value === undefined || value === null) return null;
  const members = enumValues(s);
  if (members && typeof value === 'string') {
    const i = members.indexOf(value);
    return i >= 0 ? i : value;
  }
  if (s.scale !== undefined && typeof value === 'number') return Math.round(value * s.scale);
  if (s.properties && isPlainObject(value)) {
    const out: Json[] = Object.entries(s.properties).map(([k, sub]) => pack(sub as TSchema, value[k]));
    while (out.length > 0 && out[out.length - 1] === null) out.pop();
    return out;
  }
  if (s.patternProperties && isPlainObject(value)) {
    const sub = Object.values(s.patternProperties)[0] as TSchema;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pack(sub, v)]));
  }
  if (s.items && Array.isArray(value)) return value.map((v) => pack(s.items as TSchema, v));
  return value;
}

export class CompactShapeError extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/**
 * Inverse of pack. Values whose shape does not fit the schema are passed through unchanged
 * so that the schema check afterwards reports them with their path.
 */
export function unpack(schema: TSchema, raw: Json, path = ''): Json {
  const s = node(schema);
  const members = enumValues(s);
  if (members && typeof raw === 'number' && Number.isInteger(raw)) return members[raw] ?? raw;
  if (s.scale !== undefined && typeof raw === 'number') return raw / s.scale;
  if (s.properties && Array.isArray(raw)) {
    const keys = Object.keys(s.properties);
    if (raw.length > keys.length) throw new CompactShapeError(`${raw.length} fields where at most ${keys.length} are defined`, path);
    const out: Record<string, Json> = {};
    raw.forEach((v, i) => {
      const k = keys[i] as string;
      if (v !== null && v !== undefined) out[k] = unpack(s.properties?.[k] as TSchema, v, `${path}/${k}`);
    });
    return out;
  }
  if (s.patternProperties && isPlainObject(raw)) {
    const sub = Object.values(s.patternProperties)[0] as TSchema;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, unpack(sub, v, `${path}/${k}`)]));
  }
  if (s.items && Array.isArray(raw)) return raw.map((v, i) => unpack(s.items as TSchema, v, `${path}/${i}`));
  return raw;
}

function isPlainObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
