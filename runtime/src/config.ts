import { readFileSync } from 'node:fs';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * One config schema per process, defaults inside it: file → env → coerce → defaults → validate
 * (every error reported) → deep-freeze. Env names derive from the schema path, so
 * `mqtt.port` under prefix SHOUWANG_GATEWAY is SHOUWANG_GATEWAY_MQTT_PORT.
 */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Env var prefix, e.g. SHOUWANG_GATEWAY. `<prefix>_CONFIG` names a JSON file. */
  prefix: string;
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and env (command-line flags). */
  overrides?: Record<string, unknown>;
}

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
}

export function envName(prefix: string, path: string[]): string {
  return [prefix, ...path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2'))].join('_').toUpperCase();
}

export function loadConfig<S extends TObject>(schema: S, options: LoadConfigOptions): Readonly<Static<S>> {
  const env = options.env ?? process.env;
  const file = env[`${options.prefix}_CONFIG`];
  const base: Record<string, unknown> = file ? readJson(file) : {};
  overlayEnv(schema as unknown as SchemaNode, base, [], options.prefix, env);
  if (options.overrides) deepMerge(base, options.overrides);
  const value = Value.Default(schema, Value.Convert(schema, base));
  const problems = [...Value.Errors(schema, value)].map((e) => `${e.path || '/'}: ${e.message} (got ${JSON.stringify(e.value)})`);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(value as Static<S>);
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`${path}: ${(err as Error).message}`]);
  }
}

function overlayEnv(node: SchemaNode, target: Record<string, unknown>, path: string[], prefix: string, env: NodeJS.ProcessEnv): void {
  for (const [key, sub] of Object.entries(node.properties ?? {})) {
    const here = [...path, key];
    if (sub.properties) {
      if (typeof target[key] !== 'object' || target[key] === null) target[key] = {};
      overlayEnv(sub, target[key] as Record<string, unknown>, here, prefix, env);
      continue;
    }
    const raw = env[envName(prefix, here)];
    if (raw !== undefined) target[key] = coerce(sub, raw);
  }
}

/** Env strings to schema types at the edge; permissive booleans as operators type them. */
function coerce(node: SchemaNode, raw: string): unknown {
  const type = node.type;
  if (type === 'array' || type === 'object') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (type === 'boolean') {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  }
  return raw;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') {
      deepMerge(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      target[k] = v;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export type { TSchema };
