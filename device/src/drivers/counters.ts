/** Drop counters by reason: bad input is counted, logged at a rate, and never thrown. */
export class Counters<R extends string> {
  private readonly counts = new Map<R, number>();

  inc(reason: R, by = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + by);
  }

  get(reason: R): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
