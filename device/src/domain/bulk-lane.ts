import { type LinkType, MEDIA_CHUNK_MAX_BYTES, type MediaKind } from '@shouwang/protocol';

/**
 * Decisions of the bulk lane (media on `chunk`), apart from any I/O.
 *
 * An alarm published while media uploads queues behind the media bytes already written to the
 * socket. The lane keeps those to what the link carries in `alarmWaitMs`: its byte window is
 * rate × alarmWaitMs, sent as two chunks in flight (so the next chunk is on the wire while the
 * previous one's PUBACK comes back), never less than one chunk nor more than MAX_WINDOW_BYTES. On a link so slow that one
 * smallest chunk takes longer than `alarmWaitMs` (satellite), one chunk in flight is the bound.
 */
export const MIN_CHUNK_BYTES = 1024;
/**
 * The window never grows past four of the largest chunks, however fast the link: each chunk in
 * flight is held in memory (MQTT.js keeps it until its PUBACK), and on a Pi the agent has 96 MB.
 * Four pipelined 128 KiB chunks still fill a link of several MB/s at the RTTs of 4G.
 */
export const MAX_WINDOW_BYTES = 4 * MEDIA_CHUNK_MAX_BYTES;

/** What a link carries when nothing has been measured yet, bytes/s: a thin 4G cell edge, 5G, Iridium. */
export const NOMINAL_RATE: Record<LinkType, number> = { lte: 64_000, nr: 500_000, satellite: 300, none: 0 };

export interface LaneSizing {
  chunkBytes: number;
  windowBytes: number;
}

/**
 * What a chunk puts on the wire besides its data stays under this: the PUBLISH header and topic,
 * the CBOR keys, two SHA-256 hashes, the first chunk's recording meta. The window counts wire
 * bytes, so a chunk's data is half the window less this: two chunks do fit in flight.
 */
export const CHUNK_HEADROOM = 512;

export function laneSizing(bytesPerSecond: number, alarmWaitMs: number): LaneSizing {
  const window = Math.floor((bytesPerSecond * alarmWaitMs) / 1000);
  const chunkBytes = Math.min(MEDIA_CHUNK_MAX_BYTES, Math.max(MIN_CHUNK_BYTES, Math.floor(window / 2) - CHUNK_HEADROOM));
  return { chunkBytes, windowBytes: Math.max(chunkBytes, Math.min(window, MAX_WINDOW_BYTES)) };
}

/**
 * The link's rate as the lane sees it: each chunk's bytes over the time from when the link could
 * start on it (its send, or the previous PUBACK if that came later) to its PUBACK; a moving
 * average, so one slow ack does not halve the chunk size. A chunk sent into an idle lane would
 * also count a round trip, and read a link the lane does not fill as slower than it is: the
 * sender opens each burst with a small probe chunk it does not count, so the chunks behind it
 * are timed PUBACK to PUBACK, by the link alone.
 */
export class RateMeter {
  private estimate: number | undefined;
  private readonly weight: number;
  private samples = 0;

  constructor(weight = 0.3) {
    this.weight = weight;
  }

  observe(bytes: number, ms: number): void {
    if (ms <= 0 || bytes <= 0) return;
    const rate = (bytes * 1000) / ms;
    // The first samples are averaged evenly: the very first one alone would weigh on for a while.
    this.samples++;
    const w = Math.max(this.weight, 1 / this.samples);
    this.estimate = this.estimate === undefined ? rate : this.estimate + w * (rate - this.estimate);
  }

  /** The measured rate, or the link's nominal one before any measurement. */
  rate(nominal: number): number {
    return this.estimate ?? nominal;
  }

  /** The measured rate once MEASURED_AFTER samples agree on it, else undefined (this connection). */
  get measured(): number | undefined {
    return this.samples >= MEASURED_AFTER ? this.estimate : undefined;
  }

  /** A new link (another technology, a new connection): what was measured no longer holds. */
  reset(): void {
    this.estimate = undefined;
    this.samples = 0;
  }
}

/** Samples before the rate counts as measured: one chunk's timing alone can be off by a timer's delay. */
const MEASURED_AFTER = 3;

/** Upload order inside the lane: a live segment is worthless late; alarm stills before clips before the ring. */
export const MEDIA_PRIORITY: Record<MediaKind, number> = { live: 0, snapshot: 1, clip: 2, segment: 3 };

export interface HeldRecording {
  id: number;
  bytes: number;
  pinned: boolean;
  priority: number;
  created: number;
}

/**
 * Which whole recordings to evict so that `incoming` more bytes fit in `quota`: never a pinned one
 * (an alarm clip stays until the fleet holds it), the lowest class first, then the oldest.
 * `fits` is false when even evicting every unpinned recording leaves too little room.
 */
export function toEvict(held: readonly HeldRecording[], quota: number, incoming: number): { evict: number[]; fits: boolean } {
  let total = held.reduce((n, h) => n + h.bytes, 0) + incoming;
  const evict: number[] = [];
  const candidates = held.filter((h) => !h.pinned).sort((a, b) => b.priority - a.priority || a.created - b.created || a.id - b.id);
  for (const h of candidates) {
    if (total <= quota) break;
    evict.push(h.id);
    total -= h.bytes;
  }
  return { evict, fits: total <= quota };
}
