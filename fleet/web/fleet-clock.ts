/**
 * The fleet's clock as the page sees it. Deadlines, lights and ages are judged against the time the
 * fleet reports with each answer, not the browser's: the fleet may run faster than real time
 * (`--time-scale`) beside simulated units, and a browser's clock may simply be wrong. Between
 * answers it moves on in real time; the views ask again every few seconds, so under a time scale
 * the page is at most one poll behind the fleet (a rate guessed from two answers would run away
 * after a jump of the fleet's clock, as an operator setting it or a test moving it makes).
 */
export class FleetClock {
  #last: { fleet: number; local: number } | null = null;

  /** An answer's `now`, read as it arrives. */
  sync(fleetNow: number, localNow = performance.now()): void {
    this.#last = { fleet: fleetNow, local: localNow };
  }

  /** Whether the fleet has told its time yet (before that, the browser's clock stands in). */
  get synced(): boolean {
    return this.#last !== null;
  }

  now(localNow = performance.now()): number {
    if (!this.#last) return Date.now();
    return this.#last.fleet + (localNow - this.#last.local);
  }
}
