/**
 * At most `limit` MQTT handshakes (CONNECT → authenticate → session restore → CONNACK) in
 * flight at once; the others wait in arrival order. A gateway restart meets every unit
 * at once, and 10,000 handshakes run side by side keep all their intermediate objects (scrypt,
 * session-store iterators, streams) alive together: V8 promotes them, the heap balloons to
 * several times its live size and never gives the pages back. Taken a few dozen at a time they
 * die young, and the storm is no slower: the CPU was the bound either way.
 */
export class HandshakeGate<K> {
  readonly #limit: number;
  readonly #holding = new Set<K>();
  // Insertion order is arrival order; a holder that goes away while waiting is dropped in O(1).
  readonly #waiting = new Map<K, () => void>();

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError('handshake gate limit must be at least 1');
    this.#limit = limit;
  }

  /** Calls `go` when `key` may run its handshake: now, or once one ahead of it has left. */
  enter(key: K, go: () => void): void {
    if (this.#holding.size < this.#limit) {
      this.#holding.add(key);
      go();
    } else this.#waiting.set(key, go);
  }

  /** The handshake of `key` finished, failed, or its connection closed; idempotent. */
  leave(key: K): void {
    if (this.#waiting.delete(key) || !this.#holding.delete(key)) return;
    const next = this.#waiting.entries().next();
    if (next.done) return;
    const [k, go] = next.value;
    this.#waiting.delete(k);
    this.#holding.add(k);
    go();
  }

  get inFlight(): number {
    return this.#holding.size;
  }

  get queued(): number {
    return this.#waiting.size;
  }
}
