/**
 * Follows MQTT framing on a byte stream without parsing packets: reads each fixed header's
 * Remaining Length ([MQTT-2.2.3], a 1–4 byte varint) and skips the body. It lets the gateway
 * refuse an oversized packet from its header alone, before any of it is buffered.
 */
export type ScanResult = { ok: true } | { ok: false; reason: 'too-large' | 'malformed-length'; length?: number };

export class PacketScanner {
  readonly #max: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #remaining = 0;

  constructor(maxPacketBytes: number) {
    this.#max = maxPacketBytes;
  }

  feed(chunk: Uint8Array): ScanResult {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'header') {
        i++;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else if (this.#state === 'length') {
        const b = chunk[i++] as number;
        this.#length += (b & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes++;
        if (b & 0x80) {
          if (this.#lengthBytes >= 4) return { ok: false, reason: 'malformed-length' };
          continue;
        }
        if (this.#length > this.#max) return { ok: false, reason: 'too-large', length: this.#length };
        this.#remaining = this.#length;
        this.#state = this.#remaining === 0 ? 'header' : 'body';
      } else {
        const take = Math.min(this.#remaining, chunk.length - i);
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'header';
      }
    }
    return { ok: true };
  }
}
