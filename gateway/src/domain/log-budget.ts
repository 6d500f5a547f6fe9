/**
 * How many log lines a kind of event may write per window. A flood of refusals (a fuzzer, a
 * broken firmware reconnecting in a loop) is counted in full by the metrics, but only the first
 * few of each kind per window reach the log; the next line that does says how many were left out.
 */
export class LogBudget {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, { start: number; used: number; suppressed: number }>();

  constructor(options: { perWindow: number; windowMs: number; now: () => number }) {
    this.#perWindow = options.perWindow;
    this.#windowMs = options.windowMs;
    this.#now = options.now;
  }

  /** `undefined`: do not log this one. Otherwise log it, with the count left out since the last line. */
  take(key: string): { suppressed: number } | undefined {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.#windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, used: 0, suppressed: 0 };
      this.#windows.set(key, w);
      w.used++;
      return { suppressed };
    }
    if (w.used >= this.#perWindow) {
      w.suppressed++;
      return undefined;
    }
    w.used++;
    return { suppressed: 0 };
  }
}
