/**
 * Which ring segments to delete so the recordings fit the disk quota. A segment pinned by a clip
 * that has not been uploaded is never chosen: deleting its ring entry would free nothing (the clip
 * holds the data) and the clip is evidence. The newest segment is kept too, so a clip opened now
 * still has its pre-roll's last piece. When pinned clips alone fill the quota the answer says so:
 * the recorder then stops adding segments rather than eat into evidence.
 */
export interface RingSegment {
  /** Sequence number: higher is newer. */
  n: number;
  bytes: number;
  pinned: boolean;
}

export interface Eviction {
  evict: number[];
  /** Bytes held after the eviction (ring and clips, each segment once). */
  heldBytes: number;
  /** Over quota with nothing left to evict. */
  full: boolean;
}

/** `segments`: every segment the ring holds, pinned or not; `clipOnlyBytes`: clip segments no longer in the ring. */
export function planEviction(segments: readonly RingSegment[], clipOnlyBytes: number, quotaBytes: number): Eviction {
  let held = clipOnlyBytes + segments.reduce((a, s) => a + s.bytes, 0);
  const newest = segments.reduce((m, s) => Math.max(m, s.n), -1);
  const evict: number[] = [];
  for (const s of [...segments].sort((a, b) => a.n - b.n)) {
    if (held <= quotaBytes) break;
    if (s.pinned || s.n === newest) continue;
    evict.push(s.n);
    held -= s.bytes;
  }
  return { evict, heldBytes: held, full: held > quotaBytes };
}
