/**
 * Failed logins in a sliding window, counted twice: per (identity, source) and per source.
 * Past either limit the gateway stops running scrypt for that identity from that source (or for
 * that whole source): only a secret it has already verified since it started (its cached
 * digest, checked in constant time) still gets in. So
 * - guessing an identity's secret from a source is bounded to `maxPerIdentity` scrypt checks
 *   per window, and only that identity's own success from that source clears its count: one
 *   valid credential cannot buy unlimited guesses at the others;
 * - a source guessing at many identities (`maxPerSource`) cannot burn the gateway's CPU, and
 *   the valid units behind the same carrier NAT keep getting in;
 * - a valid credential is never locked out by failures of other identities; it can only be
 *   held to its cached secret by failures against itself from its own address.
 *
 * Memory stays bounded under a flood: expired entries are pruned as the maps grow, and the
 * caller records per-identity failures from a suspect source only for identities that exist.
 */
export type LoginVerdict = 'check' | 'identity-limited' | 'source-limited';

export class LoginLimiter {
  readonly #maxPerIdentity: number;
  readonly #maxPerSource: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #byPair = new Map<string, number[]>();
  readonly #bySource = new Map<string, number[]>();

  constructor(options: { maxPerIdentity: number; maxPerSource: number; windowMs: number; now: () => number }) {
    this.#maxPerIdentity = options.maxPerIdentity;
    this.#maxPerSource = options.maxPerSource;
    this.#windowMs = options.windowMs;
    this.#now = options.now;
  }

  verdict(identity: string, source: string): LoginVerdict {
    if (this.#recent(this.#byPair, pair(identity, source)).length >= this.#maxPerIdentity) return 'identity-limited';
    if (this.#recent(this.#bySource, source).length >= this.#maxPerSource) return 'source-limited';
    return 'check';
  }

  fail(identity: string, source: string): void {
    this.#add(this.#byPair, pair(identity, source));
    this.#add(this.#bySource, source);
  }

  /** Clears this identity's failures from this source; the source's own count stays. */
  succeed(identity: string, source: string): void {
    this.#byPair.delete(pair(identity, source));
  }

  #add(map: Map<string, number[]>, key: string): void {
    const list = this.#recent(map, key);
    list.push(this.#now());
    map.set(key, list);
    if (map.size > 10_000 && map.size % 1000 === 0) for (const k of [...map.keys()]) this.#recent(map, k);
  }

  #recent(map: Map<string, number[]>, key: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const list = (map.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) map.delete(key);
    return list;
  }
}

function pair(identity: string, source: string): string {
  return `${identity}\u0000${source}`;
}
