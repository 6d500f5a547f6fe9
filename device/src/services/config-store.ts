import { ErrorCode, type ProtocolError } from '@shouwang/protocol';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DeviceConfig } from '../config.ts';
import { readStateFile, writeStateFile } from './state-file.ts';

/**
 * Remote configuration: flat dotted keys over the DeviceConfig schema (`report.intervalS`).
 * `config-set` validates every key against its schema node, persists the accepted overrides
 * atomically (they win over file and env on the next start), and says which need a restart.
 */
type Scalar = string | number | boolean;

interface Leaf {
  schema: TSchema & { requiresRestart?: boolean; secret?: boolean };
}

function leaves(schema: TSchema, prefix = '', out = new Map<string, Leaf>()): Map<string, Leaf> {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props) {
    out.set(prefix, { schema });
    return out;
  }
  for (const [k, sub] of Object.entries(props)) leaves(sub, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

const LEAVES = leaves(DeviceConfig);

export type ConfigSetResult = { ok: true; applied: string[]; restartRequired: boolean } | { ok: false; error: ProtocolError };

export class ConfigStore {
  private readonly file: string;
  private current: Record<string, Scalar>;
  private overrides: Record<string, Scalar>;
  private readonly onChange: (keys: string[]) => void;

  constructor(config: DeviceConfig, overridesFile: string, onChange: (keys: string[]) => void) {
    this.file = overridesFile;
    this.onChange = onChange;
    this.current = flatten(config);
    this.overrides = ConfigStore.readOverrides(overridesFile);
  }

  /** Persisted overrides as a nested object, for loadConfig's `overrides`. */
  static load(overridesFile: string): Record<string, unknown> {
    return nest(ConfigStore.readOverrides(overridesFile));
  }

  private static readOverrides(file: string): Record<string, Scalar> {
    return readStateFile<Record<string, Scalar>>(file, {}).value;
  }

  get(keys?: readonly string[]): { ok: true; config: Record<string, Scalar> } | { ok: false; error: ProtocolError } {
    const wanted = keys ?? [...LEAVES.keys()];
    const config: Record<string, Scalar> = {};
    for (const k of wanted) {
      const leaf = LEAVES.get(k);
      if (!leaf) return { ok: false, error: { code: ErrorCode.Schema, message: `unknown config key ${k}`, path: `/keys/${k}` } };
      if (leaf.schema.secret) continue;
      const v = this.current[k];
      if (v !== undefined) config[k] = v;
    }
    return { ok: true, config };
  }

  set(changes: Record<string, Scalar>): ConfigSetResult {
    const accepted: Record<string, Scalar> = {};
    for (const [k, raw] of Object.entries(changes)) {
      const leaf = LEAVES.get(k);
      const path = `/config/${k}`;
      if (!leaf) return { ok: false, error: { code: ErrorCode.Schema, message: `unknown config key ${k}`, path } };
      if (k === 'unitId') return { ok: false, error: { code: ErrorCode.Forbidden, message: 'unitId is set at provisioning', path } };
      const v = Value.Convert(leaf.schema, raw);
      if (!Value.Check(leaf.schema, v)) {
        const first = Value.Errors(leaf.schema, v).First();
        return { ok: false, error: { code: ErrorCode.Schema, message: `${k}: ${first?.message ?? 'invalid'}`, path } };
      }
      accepted[k] = v as Scalar;
    }
    // All or nothing: a batch with one bad key changes nothing.
    this.overrides = { ...this.overrides, ...accepted };
    writeStateFile(this.file, this.overrides, 2);
    const keys = Object.keys(accepted);
    // Live only when the schema says so: a key without the mark is not applied in place.
    const restartRequired = keys.some((k) => LEAVES.get(k)?.schema.requiresRestart !== false);
    const liveKeys = keys.filter((k) => LEAVES.get(k)?.schema.requiresRestart === false);
    for (const k of liveKeys) this.current[k] = accepted[k] as Scalar;
    if (liveKeys.length > 0) this.onChange(liveKeys);
    return { ok: true, applied: keys, restartRequired };
  }

  /** The live value of a key (after live config-set). */
  value(key: string): Scalar | undefined {
    return this.current[key];
  }
}

function flatten(obj: unknown, prefix = '', out: Record<string, Scalar> = {}): Record<string, Scalar> {
  if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof obj === 'string' || typeof obj === 'number' || typeof obj === 'boolean') {
    out[prefix] = obj;
  }
  return out;
}

function nest(flat: Record<string, Scalar>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (!LEAVES.has(k)) continue;
    const parts = k.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      const child = (node[p] ?? {}) as Record<string, unknown>;
      node[p] = child;
      node = child;
    }
    node[parts.at(-1) as string] = v;
  }
  return out;
}
