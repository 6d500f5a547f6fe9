/**
 * The fleet's clock as the page sees it. Deadlines, lights and ages are judged against the time the
 * fleet reports with each answer and push, not the browser's: the fleet may run faster than real
 * time (`--time-scale`) beside simulated units, and a browser's clock may simply be wrong. Between
 * them it moves on at the rate the fleet's stream says it runs (its `clock` event, every 15 s and on
 * connecting), never at a rate guessed from two answers (that would run away after a jump of the
 * fleet's clock, as an operator setting it or a test moving it makes).
 */
export class FleetClock {
  #last: { fleet: number; local: number } | null = null;
  #scale = 1;

  /** An answer's `now`, read as it arrives; `scale` when the fleet says how fast it runs. */
  sync(fleetNow: number, localNow = performance.now(), scale = this.#scale): void {
    this.#last = { fleet: fleetNow, local: localNow };
    this.#scale = scale;
  }

  /** Whether the fleet has told its time yet (before that, the browser's clock stands in). */
  get synced(): boolean {
    return this.#last !== null;
  }

  now(localNow = performance.now()): number {
    if (!this.#last) return Date.now();
    return this.#last.fleet + (localNow - this.#last.local) * this.#scale;
  }
}
