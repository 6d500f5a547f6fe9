import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Clock } from '@shouwang/hardware';
import { type ByteRange, encodeChunk, firstGap, type MediaChunk, type MediaKind, topics } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { laneSizing, MIN_CHUNK_BYTES, RateMeter } from '../domain/bulk-lane.ts';
import { publishPacketBytes } from '../domain/upload-policy.ts';
import type { BulkItem, BulkStore } from './bulk-store.ts';

/**
 * The sending half of the bulk lane: fills its byte window with chunks of the waiting files
 * (domain/bulk-lane.ts sizes both from the link's measured rate), publishes them at QoS 1 on
 * `chunk`, and commits what the gateway acknowledged. The uplink calls `pump` after its own
 * messages, so an alarm never waits for more than the window already on the wire.
 */
export interface BulkLink {
  /** Publishes at QoS 1: resolves on PUBACK, rejects if the connection drops first. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /** What this link carries when nothing is measured, B/s. */
  nominalRate: number;
  /** Media the link may carry now (satellite: stills only); undefined = all. */
  kinds?: readonly MediaKind[];
  /** May a packet of `wire` bytes go today? Counts it against the day's budget when it may. */
  spend(wire: number): boolean;
}

export interface BulkSenderOptions {
  unitId: string;
  store: BulkStore;
  clock: Clock;
  log: Logger;
  /** Longest an alarm should wait behind media on the wire, ms. */
  alarmWaitMs: number;
  /** A live segment not sent within this long is dropped: nobody can play it any more. */
  liveMaxAgeMs: number;
  /** All of a file sent and no `media-ack` for this long: send its last KiB again (the fleet answers it). */
  ackTimeoutMs: number;
  /**
   * The link meter's time, ms (default `performance.now`: the radio runs in real time whatever the
   * unit's clock does). A test's shaped link passes its own, so the meter reads the link and not
   * how busy the machine running the test is.
   */
  linkNow?: () => number;
}

export interface BulkStats {
  chunks: number;
  acked: number;
  dataBytes: number;
  wireBytes: number;
}

interface InFlight {
  recording: string;
  range: ByteRange;
  bytes: number;
  sentAt: number;
  /** The first chunk into an idle lane: its time is mostly the round trip, not counted as the rate. */
  probe: boolean;
}

export class BulkSender {
  readonly stats: BulkStats = { chunks: 0, acked: 0, dataBytes: 0, wireBytes: 0 };
  /** Called when a PUBACK or a timer frees the lane: the uplink drains again. */
  wake: () => void = () => undefined;
  private readonly o: BulkSenderOptions;
  private readonly meter = new RateMeter();
  private readonly inflight = new Map<number, InFlight>();
  private inflightBytes = 0;
  private sends = 0;
  private lastAckAt = 0;
  private readonly pendingSent = new Map<string, ByteRange[]>();
  private flush: NodeJS.Immediate | undefined;
  private busy = false;
  private again = false;
  private running: Promise<void> = Promise.resolve();
  private ackTimer: unknown;

  private readonly linkNow: () => number;

  constructor(options: BulkSenderOptions) {
    this.o = options;
    this.linkNow = options.linkNow ?? (() => performance.now());
  }

  /** The window and chunk size for the link as measured now. */
  sizing(nominalRate: number): { chunkBytes: number; windowBytes: number } {
    return laneSizing(this.meter.rate(nominalRate), this.o.alarmWaitMs);
  }

  /** The link's rate as measured on this connection, B/s; undefined before the first PUBACK (the live feed starts low then). */
  measuredRate(): number | undefined {
    return this.meter.measured;
  }

  /** Sends chunks until the window is full or nothing may go; safe to call at any time. */
  pump(link: BulkLink): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    this.running = this.fill(link)
      .catch((err: unknown) => this.o.log.error({ err }, 'bulk lane stalled; next drain retries'))
      .finally(() => {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.pump(link);
        }
      });
  }

  /** Resolves once no pump is running: every chunk the window lets go now has been handed to the link. */
  async idle(): Promise<void> {
    while (this.busy) await this.running;
  }

  /**
   * The connection dropped: chunks without a PUBACK go again from the lane. MQTT.js may resend its
   * own copies from its QoS 1 store too, but not reliably (a chunk caught mid-write at the cut was
   * seen never to go again, holding the window shut), so the lane does not count on it: at worst a
   * window's worth of chunks arrives twice, which the fleet writes in place again. A PUBACK that
   * comes later for an old send still marks its range sent. The next connection may be another
   * link: what was measured no longer holds.
   */
  disconnected(): void {
    this.inflight.clear();
    this.inflightBytes = 0;
    this.meter.reset();
  }

  /** Commits acknowledged ranges now (at close). */
  commit(): void {
    if (this.flush) clearImmediate(this.flush);
    this.flush = undefined;
    if (this.pendingSent.size === 0) return;
    this.o.store.markSent(this.pendingSent);
    this.pendingSent.clear();
  }

  close(): void {
    this.commit();
    if (this.ackTimer !== undefined) this.o.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private async fill(link: BulkLink): Promise<void> {
    const { chunkBytes, windowBytes } = this.sizing(link.nominalRate);
    while (this.inflight.size === 0 || this.inflightBytes + chunkBytes <= windowBytes) {
      // Where the window has room for a chunk behind it (not on satellite), an idle lane starts with a probe.
      const probe = this.inflight.size === 0 && windowBytes > chunkBytes;
      const next = await this.nextChunk(probe ? MIN_CHUNK_BYTES : chunkBytes, link.kinds);
      if (!next) break;
      const data = await readRange(next.item, next.range);
      if (!data) {
        this.o.log.warn({ recording: next.item.recording, path: next.item.path }, 'media file gone before upload; dropped');
        await this.o.store.discard(next.item, 'file-missing');
        continue;
      }
      const payload = encodeChunk(chunkOf(next.item, next.range.offset, data));
      const wire = publishPacketBytes(topics.chunk(this.o.unitId), payload.length, 1);
      if (!link.spend(wire)) break;
      this.send(link, next.item.recording, next.range, payload, wire, probe);
    }
    this.armAckTimer();
  }

  private send(link: BulkLink, recording: string, range: ByteRange, payload: Uint8Array, wire: number, probe: boolean): void {
    const key = ++this.sends;
    const flight: InFlight = { recording, range, bytes: wire, sentAt: this.linkNow(), probe };
    this.inflight.set(key, flight);
    this.inflightBytes += wire;
    this.stats.chunks++;
    this.stats.dataBytes += range.length;
    this.stats.wireBytes += wire;
    link.publish(topics.chunk(this.o.unitId), payload).then(
      () => {
        const now = this.linkNow();
        if (!flight.probe) this.meter.observe(wire, now - Math.max(flight.sentAt, this.lastAckAt));
        this.lastAckAt = now;
        this.settle(key, flight);
        this.stats.acked++;
        this.pendingSent.set(recording, [...(this.pendingSent.get(recording) ?? []), range]);
        this.flush ??= setImmediate(() => this.commit());
        this.wake();
      },
      () => {
        // Failed without a PUBACK (the client ended): those bytes are still to send.
        this.settle(key, flight);
        this.wake();
      },
    );
  }

  private settle(key: number, flight: InFlight): void {
    if (this.inflight.delete(key)) this.inflightBytes -= flight.bytes;
  }

  private inflightOf(recording: string): ByteRange[] {
    const out: ByteRange[] = [];
    for (const f of this.inflight.values()) if (f.recording === recording) out.push(f.range);
    return out;
  }

  /** The next range to send: the first gap of the first file in upload order the link may carry. */
  private async nextChunk(max: number, kinds: readonly MediaKind[] | undefined): Promise<{ item: BulkItem; range: ByteRange } | undefined> {
    const now = this.o.clock.now();
    for (const item of this.o.store.list()) {
      if (item.state !== 'sending' || (kinds && !kinds.includes(item.kind))) continue;
      if (item.kind === 'live' && now - item.created > this.o.liveMaxAgeMs) {
        // Counted stale only with bytes never sent (what the link could not carry in time); one all
        // sent and not yet confirmed by the fleet is no use late either, but the link carried it.
        const unsent = item.sent.reduce((n, r) => n + r.length, 0) < item.size;
        await this.o.store.discard(item, unsent ? 'stale-live' : undefined);
        continue;
      }
      const inflight = this.inflightOf(item.recording);
      const pending = this.pendingSent.get(item.recording) ?? [];
      const gap = firstGap(item.size, max, item.sent, pending, inflight);
      if (gap) return { item, range: gap };
      if (inflight.length > 0) continue;
      if (item.sentAllAt === undefined) item.sentAllAt = now;
      else if (now - item.sentAllAt >= this.o.ackTimeoutMs) {
        // No word from the fleet: the file's last bytes again make it say what it holds (it answers
        // a chunk that ends the file); the smallest chunk does, whatever the chunk size now.
        item.sentAllAt = now;
        const length = Math.min(MIN_CHUNK_BYTES, item.size);
        return { item, range: { offset: item.size - length, length } };
      }
    }
    return undefined;
  }

  private armAckTimer(): void {
    if (this.ackTimer !== undefined) return;
    if (!this.o.store.list().some((i) => i.sentAllAt !== undefined)) return;
    this.ackTimer = this.o.clock.setTimeout(() => {
      this.ackTimer = undefined;
      this.wake();
    }, this.o.ackTimeoutMs);
  }
}

function chunkOf(item: BulkItem, offset: number, data: Uint8Array): MediaChunk {
  const chunk: MediaChunk = {
    recording: item.recording,
    kind: item.kind,
    offset,
    hash: sha256(data),
    data,
    size: item.size,
    sha256: item.sha256,
  };
  // What the fleet files the recording under rides once, with the first bytes.
  if (offset === 0) Object.assign(chunk, item.meta);
  return chunk;
}

function sha256(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest();
}

async function readRange(item: BulkItem, range: ByteRange): Promise<Uint8Array | undefined> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(item.path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(range.length);
    const { bytesRead } = await fh.read(buf, 0, range.length, range.offset);
    return bytesRead === range.length ? buf : undefined;
  } finally {
    await fh.close();
  }
}
