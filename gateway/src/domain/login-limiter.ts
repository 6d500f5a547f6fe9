/**
 * Failed logins per source address in a sliding window. Past the limit a source is refused
 * without running scrypt, so guessing is slow and a flood cannot burn the gateway's CPU.
 */
export class LoginLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #failures = new Map<string, number[]>();

  constructor(options: { maxFailures: number; windowMs: number; now?: () => number }) {
    this.#max = options.maxFailures;
    this.#windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
  }

  blocked(source: string): boolean {
    return this.#recent(source).length >= this.#max;
  }

  fail(source: string): void {
    const list = this.#recent(source);
    list.push(this.#now());
    this.#failures.set(source, list);
  }

  succeed(source: string): void {
    this.#failures.delete(source);
  }

  #recent(source: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const list = (this.#failures.get(source) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#failures.delete(source);
    return list;
  }
}
