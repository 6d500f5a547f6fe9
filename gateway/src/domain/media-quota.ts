/**
 * Media bytes each unit may push through the gateway per UTC day. Chunks are not journaled, but
 * they are queued for the fleet's durable session (on disk with `level` state) and stored by the
 * fleet: a hostile or broken unit must not fill either. Past its day's bytes a unit's chunks are
 * refused (counted, acknowledged, dropped); the fleet's `media-ack` then shows the unit the gaps,
 * which it sends again the next day.
 */
const DAY_MS = 86_400_000;

export class MediaQuota {
  readonly #bytesPerDay: number;
  #day = -1;
  readonly #used = new Map<string, number>();

  constructor(bytesPerDay: number) {
    this.#bytesPerDay = bytesPerDay;
  }

  /** Counts `bytes` against the unit's day; false (and nothing counted) when they do not fit. */
  take(unitId: string, bytes: number, now: number): boolean {
    const day = Math.floor(now / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#used.clear();
    }
    const used = (this.#used.get(unitId) ?? 0) + bytes;
    if (used > this.#bytesPerDay) return false;
    this.#used.set(unitId, used);
    return true;
  }
}
