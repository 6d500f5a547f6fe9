/**
 * Connections per source address that have not logged in yet. Each holds buffers and a parser
 * until its CONNECT is accepted or the connect timeout fires; without a cap one address could
 * open thousands of them. Past the cap a new connection from that address is closed at once.
 */
export class SourceSlots {
  readonly #max: number;
  readonly #held = new Map<string, number>();

  constructor(max: number) {
    this.#max = max;
  }

  take(source: string): boolean {
    const n = this.#held.get(source) ?? 0;
    if (n >= this.#max) return false;
    this.#held.set(source, n + 1);
    return true;
  }

  give(source: string): void {
    const n = (this.#held.get(source) ?? 0) - 1;
    if (n <= 0) this.#held.delete(source);
    else this.#held.set(source, n);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.#held.values()) sum += n;
    return sum;
  }
}
