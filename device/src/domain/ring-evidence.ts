import { createHash } from 'node:crypto';
import { canonicalEvidenceEntry, type EvidenceEntry } from '@shouwang/protocol';

/**
 * The evidence chain of an alarm as the unit builds it (the chain itself is the protocol's: see
 * `Evidence`). The head the alarm carries covers what exists at the instant it is raised: the
 * position and the readings that raised it. The still and the clip are appended as they are made,
 * and the `evidence` message carries all of them and the new head.
 *
 * Synchronous, unlike the protocol's `evidenceHeads` (Web Crypto is promise-only): the alarm is
 * queued in the same tick that raised it, and may not wait behind anything. The test holds the two
 * to the same heads.
 */
export function evidenceHead(unitId: string, alarmId: string, entries: readonly EvidenceEntry[]): string {
  let head = createHash('sha256').update(`sw/v1 evidence ${unitId} ${alarmId}`).digest();
  for (const e of entries) {
    const entry = createHash('sha256').update(canonicalEvidenceEntry(e)).digest();
    head = createHash('sha256')
      .update(Buffer.concat([head, entry]))
      .digest();
  }
  return head.toString('hex');
}

/** What the agent knows when an alarm is raised. */
export interface RaisedAlarm {
  id: string;
  ts: number;
  lat?: number;
  lon?: number;
  /** The readings at the time (soc, tiltDeg, tempC, tamper 0/1 …). */
  values: Record<string, number>;
}

/** The entries present at raise time: the position (when there is a fix) and the readings. */
export function raiseEntries(a: RaisedAlarm): EvidenceEntry[] {
  const out: EvidenceEntry[] = [];
  if (a.lat !== undefined && a.lon !== undefined) out.push({ part: 'position', ts: a.ts, lat: a.lat, lon: a.lon });
  if (Object.keys(a.values).length > 0) out.push({ part: 'readings', ts: a.ts, values: a.values });
  return out;
}

/** A recording id for a file made for an alarm: alarm ids carry `:`, recording ids may not. */
export function mediaIdFor(prefix: 'clip' | 'snap', alarmId: string): string {
  return `${prefix}-${alarmId.replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64);
}
