import { DIGEST_MAX_ALARMS, type Digest, SBD_MO_BYTES, SEVERITIES, type Severity } from '@shouwang/protocol';

/**
 * The satellite digest: the whole status in one message that must fit one Iridium SBD
 * mobile-originated message (340 B), since each message is billed and a split status would
 * arrive half-stale. Open alarms go most severe first, oldest first within a severity; those
 * that do not fit are counted in `alarmsMore` so the fleet knows the list is partial.
 */
export type DigestDraft = Omit<Digest, 'seq' | 'alarms' | 'alarmsMore'>;
export interface OpenAlarm {
  id: string;
  kind: Digest['alarms'][number]['kind'];
  severity: Severity;
  raisedAt: number;
}

/** `encodedBytes` measures the compact payload as it will go (with the largest seq it may carry). */
export function buildDigest(
  draft: DigestDraft,
  open: readonly OpenAlarm[],
  encodedBytes: (d: Omit<Digest, 'seq'>) => number,
  limit = SBD_MO_BYTES,
): Omit<Digest, 'seq'> {
  const rank = (s: Severity) => SEVERITIES.indexOf(s);
  const alarms = [...open]
    .sort((a, b) => rank(a.severity) - rank(b.severity) || a.raisedAt - b.raisedAt)
    .map((a) => ({ id: a.id, kind: a.kind, severity: a.severity, since: a.raisedAt }));
  let n = Math.min(alarms.length, DIGEST_MAX_ALARMS);
  for (;;) {
    const more = alarms.length - n;
    const d: Omit<Digest, 'seq'> = { ...draft, alarms: alarms.slice(0, n), ...(more > 0 ? { alarmsMore: more } : {}) };
    if (n === 0 || encodedBytes(d) <= limit) return d;
    n--;
  }
}
