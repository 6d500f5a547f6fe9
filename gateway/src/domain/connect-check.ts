import { isUtf8 } from 'node:buffer';

/**
 * Checks a CONNECT packet's bytes in full before the broker acts on any of it. mqtt-packet parses
 * leniently and Aedes stores what it parsed: it accepts a Will with QoS 3, a Will Topic that is
 * not valid UTF-8 or holds a wildcard, trailing bytes and `MQIsdp` at level 4. A stored QoS 3
 * message cannot be encoded for a subscriber, and Aedes answers that by closing the subscriber:
 * every wildcard subscriber the Will reaches. Pure: bytes in, verdict out.
 *
 * `connack1` means answer CONNACK 0x01 and close ([MQTT-3.1.2-2]); every other refusal is a
 * malformed packet, which the spec answers by closing the connection without a CONNACK
 * ([MQTT-4.8.0-1]).
 */
export type ConnectVerdict = { ok: true } | { ok: false; reason: ConnectRefusal; connack1?: true };

export type ConnectRefusal =
  | 'connect-protocol-name'
  | 'connect-protocol-level'
  | 'connect-reserved-flag'
  | 'connect-will-flags'
  | 'connect-will-qos'
  | 'connect-password-flag'
  | 'connect-utf8'
  | 'connect-will-topic'
  | 'connect-truncated'
  | 'connect-trailing-bytes';

const NAME_FOR_LEVEL: ReadonlyMap<number, string> = new Map([
  [3, 'MQIsdp'], // MQTT 3.1
  [4, 'MQTT'], // MQTT 3.1.1
]);

/** `body` is the packet after its fixed header: variable header and payload, exactly Remaining Length bytes. */
export function checkConnect(body: Uint8Array): ConnectVerdict {
  const r = new Reader(body);
  const name = r.string();
  if (name === undefined) return refuse(r.error ?? 'connect-truncated');
  const level = r.byte();
  if (level === undefined) return refuse('connect-truncated');
  if (name === 'MQTT' && level !== 4) return { ok: false, reason: 'connect-protocol-level', connack1: true };
  // [MQTT-3.1.2-1]: a wrong name (or MQTT 3.1's name with another level) may be disconnected.
  if (NAME_FOR_LEVEL.get(level) !== name) return refuse('connect-protocol-name');
  const flags = r.byte();
  if (flags === undefined) return refuse('connect-truncated');
  if (flags & 0x01) return refuse('connect-reserved-flag'); // [MQTT-3.1.2-3]
  const will = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  if (!will && (willQos !== 0 || willRetain)) return refuse('connect-will-flags'); // [MQTT-3.1.2-13], [MQTT-3.1.2-15]
  if (will && willQos === 3) return refuse('connect-will-qos'); // [MQTT-3.1.2-14]
  const username = (flags & 0x80) !== 0;
  const password = (flags & 0x40) !== 0;
  if (password && !username) return refuse('connect-password-flag'); // [MQTT-3.1.2-22]
  if (r.bytes(2) === undefined) return refuse('connect-truncated'); // Keep Alive
  if (r.string() === undefined) return refuse(r.error ?? 'connect-truncated'); // Client Identifier [MQTT-3.1.3-4]
  if (will) {
    const topic = r.string();
    if (topic === undefined) return refuse(r.error ?? 'connect-truncated');
    // The Will Topic is the topic name the Will is published on: non-empty, no wildcards ([MQTT-4.7.3-1], [MQTT-4.7.1-1]).
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) return refuse('connect-will-topic');
    if (r.binary() === undefined) return refuse('connect-truncated');
  }
  if (username && r.string() === undefined) return refuse(r.error ?? 'connect-truncated');
  if (password && r.binary() === undefined) return refuse('connect-truncated');
  // Bytes past the last field the flags announce make the packet malformed: the Remaining Length lies.
  if (!r.atEnd) return refuse('connect-trailing-bytes');
  return { ok: true };
}

function refuse(reason: ConnectRefusal): ConnectVerdict {
  return { ok: false, reason };
}

class Reader {
  readonly #b: Uint8Array;
  #pos = 0;
  error: ConnectRefusal | undefined;

  constructor(b: Uint8Array) {
    this.#b = b;
  }

  get atEnd(): boolean {
    return this.#pos === this.#b.length;
  }

  byte(): number | undefined {
    return this.#pos < this.#b.length ? this.#b[this.#pos++] : undefined;
  }

  bytes(n: number): Uint8Array | undefined {
    if (this.#pos + n > this.#b.length) return undefined;
    const out = this.#b.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  binary(): Uint8Array | undefined {
    const len = this.bytes(2);
    return len === undefined ? undefined : this.bytes(((len[0] as number) << 8) | (len[1] as number));
  }

  /** A UTF-8 encoded string ([MQTT-1.5.3]): well-formed, and no U+0000 ([MQTT-1.5.3-1], [MQTT-1.5.3-2]). */
  string(): string | undefined {
    const b = this.binary();
    if (b === undefined) return undefined;
    if (!isUtf8(b) || b.includes(0)) {
      this.error = 'connect-utf8';
      return undefined;
    }
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  }
}
