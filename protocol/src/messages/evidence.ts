import { type Static, Type } from '@sinclair/typebox';
import { Seq, StringEnum, Timestamp } from '../schema-kit.ts';
import { RecordingId, Sha256Hex } from './media.ts';

/**
 * The evidence of one alarm as a hash chain. Each entry is a part: a snapshot, a clip or ring
 * segment (named by recording id, with its size and SHA-256), the readings or the position at the
 * time (carried inline). The chain starts at H0 = SHA-256("sw/v1 evidence <unitId> <alarmId>") and
 * Hi = SHA-256(Hi-1 ‖ SHA-256(canonical(entry i))), where canonical is `canonicalEvidenceEntry`.
 * The alarm carries the head over the parts it had when raised (64 hex digits: it fits in one
 * satellite message); the `evidence` message sent later carries all entries, the parts that came
 * after (post-roll) appended, and the new head. The receiver recomputes the chain, checks that the
 * alarm's head is one of its prefixes, and checks each file that arrives against its entry.
 */
export const EVIDENCE_PARTS = ['snapshot', 'clip', 'segment', 'readings', 'position'] as const;
export type EvidencePart = (typeof EVIDENCE_PARTS)[number];
export const EVIDENCE_MAX_ENTRIES = 64;
/** Why a part is shorter than planned: `restart`, the agent stopped (a kill, a power cut) before its post-roll was recorded. */
export const EVIDENCE_CUTS = ['restart'] as const;

/** Plain numbers (no `scale`): the compact form must carry exactly what was hashed. */
export const EvidenceEntry = Type.Object(
  {
    part: StringEnum(EVIDENCE_PARTS),
    ts: Type.Integer({ minimum: 0, description: 'When the part was captured, ms since epoch' }),
    recording: Type.Optional(RecordingId),
    bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'File size (media parts)' })),
    sha256: Type.Optional({ ...Sha256Hex, description: 'File SHA-256 (media parts)' }),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    values: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,31}$' }), Type.Number(), {
        maxProperties: 32,
        description: 'Readings at the time (part `readings`)',
      }),
    ),
    // Last: an entry without it hashes as it did before the field existed.
    cut: Type.Optional(
      StringEnum(EVIDENCE_CUTS, {
        description:
          'The part ended before it was due (`restart`: the agent restarted while it recorded); a clip with no recording held nothing',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EvidenceEntry = Static<typeof EvidenceEntry>;

export const Evidence = Type.Object(
  {
    seq: Seq,
    ts: Timestamp,
    alarm: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$', description: 'The alarm id this evidence belongs to' }),
    entries: Type.Array(EvidenceEntry, { minItems: 1, maxItems: EVIDENCE_MAX_ENTRIES }),
    head: { ...Sha256Hex, description: 'Chain head over all entries' },
  },
  { additionalProperties: false },
);
export type Evidence = Static<typeof Evidence>;

const ENTRY_KEYS = Object.keys(EvidenceEntry.properties) as (keyof EvidenceEntry)[];

/** The bytes of an entry that are hashed: JSON of its fields in schema order, absent ones left out, readings by name. */
export function canonicalEvidenceEntry(e: EvidenceEntry): Uint8Array {
  const fields: unknown[] = [];
  for (const k of ENTRY_KEYS) {
    const v = e[k];
    if (v === undefined) continue;
    fields.push(k, k === 'values' ? Object.entries(v as Record<string, number>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : v);
  }
  return new TextEncoder().encode(JSON.stringify(fields));
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  // Web Crypto: the same code runs in the agent, the fleet and the dashboard.
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Heads of the chain after 0, 1, … n entries (index 0 is H0): the alarm's head must be one of them. */
export async function evidenceHeads(unitId: string, alarmId: string, entries: readonly EvidenceEntry[]): Promise<string[]> {
  let head = await sha256(new TextEncoder().encode(`sw/v1 evidence ${unitId} ${alarmId}`));
  const heads = [hex(head)];
  for (const e of entries) {
    const link = new Uint8Array(64);
    link.set(head, 0);
    link.set(await sha256(canonicalEvidenceEntry(e)), 32);
    head = await sha256(link);
    heads.push(hex(head));
  }
  return heads;
}
