import type { UplinkKind, UplinkPayload } from '@shouwang/protocol';

/**
 * Readings as time-series points: one measurement per kind, tagged by unit, written at the
 * event time. A telemetry batch becomes one point per sample. Writing the same reading twice
 * yields the same (measurement, tags, time) and so the same point: InfluxDB overwrites rather
 * than duplicates, which keeps resends harmless even past the journal's own deduplication.
 */
export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  timestamp: number;
}

export function toPoints<K extends UplinkKind>(unitId: string, kind: K, payload: UplinkPayload<K>): Point[] {
  if (kind === 'telemetry') {
    const t = payload as UplinkPayload<'telemetry'>;
    const n = Math.max(0, ...Object.values(t.series).map((s) => s.length));
    return Array.from({ length: n }, (_, i) => ({
      measurement: 'telemetry',
      tags: { unit: unitId },
      fields: Object.fromEntries(Object.entries(t.series).flatMap(([k, s]) => (s[i] === undefined ? [] : [[k, s[i] as number]]))),
      timestamp: t.ts + i * t.periodMs,
    })).filter((p) => Object.keys(p.fields).length > 0);
  }
  if (kind === 'digest') {
    // A digest is the status kinds in one message: history keeps them where the separate messages go.
    const d = payload as UplinkPayload<'digest'>;
    const parts: [string, Record<string, unknown> | undefined][] = [
      ['power', { ...d.power, openAlarms: d.alarms.length + (d.alarmsMore ?? 0) }],
      ['location', d.location],
      ['link', d.link],
    ];
    return parts.flatMap(([measurement, part]) => (part ? [point(unitId, measurement, d.ts, { seq: d.seq, ...part })] : []));
  }
  const { ts, ...rest } = payload as { ts: number } & Record<string, unknown>;
  return [point(unitId, kind, ts, rest)];
}

function point(unitId: string, measurement: string, timestamp: number, values: Record<string, unknown>): Point {
  const fields: Point['fields'] = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') fields[k] = v;
  }
  return { measurement, tags: { unit: unitId }, fields, timestamp };
}
