import type { Settlement } from '@shouwang/protocol';

/** What one lane (a deliver node wired from `ticket in`) says of one event. */
export type LaneReport = { outcome: 'delivered' | 'dead-letter'; reason?: string; target?: string } | { outcome: 'deferred' };

/** What `ticket in` writes on an event for each lane: work it, or answer at once. */
export interface LaneMarks {
  /** Lanes with their fill of events: they defer this one without a call (it comes again when its lease runs out). */
  skip: string[];
  /** Lanes that delivered this event on an earlier lease: they report it delivered without a second call. */
  delivered: string[];
}

interface Pending {
  until: number;
  /** Lanes yet to report. */
  waiting: Set<string>;
  /** Lanes actually sending it (not skipped, not delivered before): these count against their fill. */
  working: Set<string>;
  deadLetter?: Settlement;
  deferred: boolean;
}

/**
 * Each destination its own lane: `ticket in` sends every event to all the deliver nodes wired from
 * it at once, each reports on its own, and the event is settled when all have (a dead letter if any
 * refused it, nothing when any deferred it: the lease lapses and it comes again). Each lane has its
 * own fill of `maxOut` events in work, so a stalled or failing endpoint fills its lane only: the
 * next lease goes on to the other lanes with this one marked to skip, and what a lane delivered is
 * remembered so the repeat does not call it again. A report from no known lane (a flow wired
 * another way, one node in a chain) settles the whole event.
 */
export class Lanes {
  readonly #lanes: readonly string[];
  readonly #maxOut: number;
  readonly #out = new Map<number, Pending>();
  readonly #load = new Map<string, number>();
  /** seq → lanes that delivered it, for events some other lane deferred; dropped when settled or beyond `maxOut` × lanes entries. */
  readonly #delivered = new Map<number, Set<string>>();

  constructor(lanes: readonly string[], maxOut: number) {
    this.#lanes = lanes.length > 0 ? lanes : ['*'];
    this.#maxOut = maxOut;
    for (const l of this.#lanes) this.#load.set(l, 0);
  }

  get size(): number {
    return this.#out.size;
  }

  /** Events the least busy lane has room for (0: every lane is full). */
  room(): number {
    return Math.max(0, this.#maxOut - Math.min(...this.#load.values()));
  }

  /** The earliest lease of an event in work, to wait for when there is no room. */
  nextLapse(): number {
    return Math.min(...[...this.#out.values()].map((p) => p.until));
  }

  /** Forgets events whose lease ran out: they come again from the fleet. */
  lapse(now: number): void {
    for (const [seq, p] of this.#out) if (p.until <= now) this.#drop(seq, p);
  }

  /** An event leased until `until`: the marks to send it with. */
  add(seq: number, until: number): LaneMarks {
    const again = this.#out.get(seq);
    if (again) this.#drop(seq, again);
    const before = this.#delivered.get(seq);
    const marks: LaneMarks = { skip: [], delivered: [] };
    const p: Pending = { until, waiting: new Set(this.#lanes), working: new Set(), deferred: false };
    for (const l of this.#lanes) {
      if (before?.has(l)) marks.delivered.push(l);
      else if ((this.#load.get(l) ?? 0) >= this.#maxOut) marks.skip.push(l);
      else {
        p.working.add(l);
        this.#load.set(l, (this.#load.get(l) ?? 0) + 1);
      }
    }
    this.#out.set(seq, p);
    return marks;
  }

  /**
   * One lane's report; the settlement to send when it was the last one. `lane` undefined or not a
   * lane: the report stands for the whole event.
   */
  report(seq: number, lane: string | undefined, r: LaneReport): Settlement | undefined {
    const p = this.#out.get(seq);
    const whole = lane === undefined || !this.#lanes.includes(lane);
    if (!p) return whole && r.outcome !== 'deferred' ? { seq, ...r } : undefined;
    for (const l of whole ? this.#lanes : [lane]) {
      if (!p.waiting.delete(l)) continue;
      if (p.working.delete(l)) this.#load.set(l, (this.#load.get(l) ?? 1) - 1);
      if (r.outcome === 'delivered') this.#remember(seq, l);
    }
    if (r.outcome === 'deferred') p.deferred = true;
    else if (r.outcome === 'dead-letter') p.deadLetter ??= { seq, ...r };
    if (p.waiting.size > 0) return undefined;
    this.#drop(seq, p);
    if (p.deadLetter) return p.deadLetter;
    return p.deferred ? undefined : { seq, outcome: 'delivered' };
  }

  /** A settlement the fleet took: the event is done for every lane. */
  settled(seq: number): void {
    this.#delivered.delete(seq);
  }

  #remember(seq: number, lane: string): void {
    const s = this.#delivered.get(seq) ?? new Set<string>();
    s.add(lane);
    this.#delivered.set(seq, s);
    if (this.#delivered.size > this.#maxOut * this.#lanes.length) {
      const oldest = this.#delivered.keys().next().value;
      if (oldest !== undefined) this.#delivered.delete(oldest);
    }
  }

  #drop(seq: number, p: Pending): void {
    for (const l of p.working) this.#load.set(l, (this.#load.get(l) ?? 1) - 1);
    p.working.clear();
    this.#out.delete(seq);
  }
}
