import type { ByteRange } from './messages/media.ts';

/**
 * Sets of byte ranges as `media-ack` carries them: sorted by offset, disjoint, adjacent ranges
 * merged. The unit and the fleet keep what has been sent or received of a file this way, so both
 * sides agree on what "the gaps" are.
 */
export function addRange(set: readonly ByteRange[], r: ByteRange): ByteRange[] {
  return mergeRanges([...set, r]);
}

export function mergeRanges(ranges: readonly ByteRange[]): ByteRange[] {
  const sorted = ranges.filter((r) => r.length > 0).sort((a, b) => a.offset - b.offset);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else out.push({ offset: r.offset, length: r.length });
  }
  return out;
}

export function rangeBytes(set: readonly ByteRange[]): number {
  return set.reduce((n, r) => n + r.length, 0);
}

/** Whether the set covers [0, size). */
export function coversAll(set: readonly ByteRange[], size: number): boolean {
  const first = set[0];
  return set.length === 1 && first !== undefined && first.offset === 0 && first.length >= size;
}

/** The first range of [0, size) that none of the sets covers, at most `max` bytes long. */
export function firstGap(size: number, max: number, ...sets: readonly (readonly ByteRange[])[]): ByteRange | undefined {
  let at = 0;
  for (const r of mergeRanges(sets.flat())) {
    if (r.offset > at) break;
    at = Math.max(at, r.offset + r.length);
  }
  if (at >= size) return undefined;
  const next = mergeRanges(sets.flat()).find((r) => r.offset > at);
  return { offset: at, length: Math.min(max, (next?.offset ?? size) - at, size - at) };
}
