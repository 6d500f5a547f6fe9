/**
 * Follows MQTT framing on a byte stream without parsing packets: reads each fixed header's
 * Remaining Length ([MQTT-2.2.3], a 1–4 byte varint) and skips the body. It lets the gateway
 * refuse an oversized packet from its header alone, before any of it is buffered, and refuse the
 * protocol violations a fixed header shows on its own, which mqtt-packet and Aedes let through
 * or refuse without saying why.
 */
export type ScanViolation =
  | 'packet-too-large'
  | 'packet-malformed'
  | 'packet-before-connect'
  | 'duplicate-connect'
  | 'publish-qos3'
  | 'subscribe-empty'
  | 'unsubscribe-empty';

export type ScanResult = { ok: true } | { ok: false; reason: ScanViolation };

const CONNECT = 1;
const PUBLISH = 3;
const SUBSCRIBE = 8;
const UNSUBSCRIBE = 10;

export class PacketScanner {
  readonly #max: number;
  #state: 'header' | 'length' | 'body' = 'header';
  #type = 0;
  #flags = 0;
  #packets = 0;
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
        const b = chunk[i++] as number;
        this.#type = b >> 4;
        this.#flags = b & 0x0f;
        const bad = this.#checkType();
        if (bad) return { ok: false, reason: bad };
        this.#packets++;
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
          if (this.#lengthBytes >= 4) return { ok: false, reason: 'packet-malformed' };
          continue;
        }
        if (this.#length > this.#max) return { ok: false, reason: 'packet-too-large' };
        const bad = this.#checkLength();
        if (bad) return { ok: false, reason: bad };
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

  #checkType(): ScanViolation | undefined {
    if (this.#packets === 0) return this.#type === CONNECT ? undefined : 'packet-before-connect'; // [MQTT-3.1.0-1]
    if (this.#type === CONNECT) return 'duplicate-connect'; // [MQTT-3.1.0-2]
    if (this.#type === PUBLISH && (this.#flags & 0x06) === 0x06) return 'publish-qos3'; // [MQTT-3.3.1-4]
    return undefined;
  }

  /** A SUBSCRIBE or UNSUBSCRIBE of just its Packet Identifier carries no filter. */
  #checkLength(): ScanViolation | undefined {
    if (this.#length > 2) return undefined;
    if (this.#type === SUBSCRIBE) return 'subscribe-empty'; // [MQTT-3.8.3-3]
    if (this.#type === UNSUBSCRIBE) return 'unsubscribe-empty'; // [MQTT-3.10.3-2]
    return undefined;
  }
}
