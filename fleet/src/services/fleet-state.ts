import { EventEmitter } from 'node:events';
import { type CommissionItem, type DecodedMessage, type Location, type Power, positionOf } from '@shouwang/protocol';
import { classifyLiveness, DEFAULT_LIVENESS_POLICY, type LivenessPolicy, type LivenessStatus } from '../domain/liveness.ts';
import { addSample, linkOutlook, locationOutlook, type Point, powerOutlook, type SocSample, socTrend } from '../domain/outlook.ts';
import { applyMessage, type CommissioningSummary, digestParts, emptyUnit, type UnitState, type UnitView } from '../domain/unit-state.ts';

/** Time as the fleet sees it; injected so liveness can be tested with mock timers. */
export interface Clock {
  now(): number;
}

/** Wall time, or time running `scale` times faster from now on (to keep step with simulated units). */
export function fleetClock(scale: number): Clock {
  if (scale === 1) return { now: () => Date.now() };
  const start = Date.now();
  return { now: () => Math.round(start + (Date.now() - start) * scale) };
}

export interface FleetStateOptions {
  clock?: Clock;
  policy?: LivenessPolicy;
}

/** Per unit: the state from the wire plus the short memory derived state needs. */
interface Track {
  state: UnitState;
  samples: SocSample[];
  previousLocation: Location | null;
  deployment: Point | null;
  /** Liveness last announced to listeners, so the sweep emits only on change. */
  announced: LivenessStatus;
}

/** Live state of every unit in memory; emits `unit` with the new view on every change. */
export interface FleetStateEvents {
  /** The unit's view changed (a message, or liveness as time passed). */
  unit: [UnitView];
  /** A power reading was accepted, in or out of order: history is kept at event time. */
  power: [unitId: string, power: Power];
  /** A position with a fix was accepted, in or out of order: the unit's track, at event time. */
  location: [unitId: string, ts: number, at: Point];
  /** The unit judged by itself a commissioning check its run had left pending (a `commission` event with its item). */
  judged: [unitId: string, item: CommissionItem];
}

/** What storage keeps of a unit's live state, to resume after a restart. */
export interface StoredTrack {
  state: UnitState;
  deployment: Point | null;
}

export class FleetState extends EventEmitter<FleetStateEvents> {
  readonly #units = new Map<string, Track>();
  /** Deployment points pinned by the registry, also for units not heard from yet. */
  readonly #sites = new Map<string, Point>();
  /** Monthly data budgets set in the registry; units without one get their link type's default. */
  readonly #budgets = new Map<string, number>();
  /** Each unit's last commissioning run (kept in storage; restored at start). */
  readonly #commissioning = new Map<string, CommissioningSummary>();
  readonly #clock: Clock;
  readonly #policy: LivenessPolicy;

  constructor(options: FleetStateOptions = {}) {
    super();
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#policy = options.policy ?? DEFAULT_LIVENESS_POLICY;
    this.setMaxListeners(0); // one listener per open dashboard (SSE)
  }

  apply(m: DecodedMessage): void {
    const track = this.#units.get(m.unitId) ?? {
      state: emptyUnit(m.unitId),
      samples: [],
      previousLocation: null,
      deployment: this.#sites.get(m.unitId) ?? null,
      announced: 'missing',
    };
    const before = track.state;
    track.state = applyMessage(before, m, this.#clock.now());
    const power =
      m.type !== 'uplink' ? undefined : m.kind === 'power' ? m.payload : m.kind === 'digest' ? digestParts(m.payload).power : undefined;
    if (power) this.emit('power', m.unitId, power);
    if (m.type === 'uplink' && m.kind === 'event' && m.payload.kind === 'commission' && m.payload.item)
      this.emit('judged', m.unitId, m.payload.item);
    const fix =
      m.type !== 'uplink'
        ? undefined
        : m.kind === 'location'
          ? m.payload
          : m.kind === 'digest'
            ? digestParts(m.payload).location
            : undefined;
    const fixAt = fix && positionOf(fix);
    if (fix && fixAt) this.emit('location', m.unitId, fix.ts, fixAt);
    // Every charge the unit reports feeds the trend, also those carried by events and telemetry.
    const charge = power ?? (track.state.power !== before.power ? track.state.power : null);
    if (charge) track.samples = addSample(track.samples, { ts: charge.ts, soc: charge.soc });
    const loc = track.state.location;
    const at = loc ? positionOf(loc) : undefined;
    if (loc !== before.location && at) {
      track.previousLocation = before.location;
      track.deployment ??= at;
    }
    this.#units.set(m.unitId, track);
    this.#announce(track);
  }

  /** Resumes from storage, before ingest starts. The trend restarts with the next readings. */
  restore(stored: StoredTrack): void {
    const track: Track = { state: stored.state, samples: [], previousLocation: null, deployment: stored.deployment, announced: 'missing' };
    track.announced = this.#status(track);
    this.#units.set(stored.state.id, track);
  }

  /** The part of a unit's state storage keeps. */
  stored(id: string): StoredTrack | undefined {
    const track = this.#units.get(id);
    return track && { state: track.state, deployment: track.deployment };
  }

  /** Re-classifies liveness as time passes; emits for every unit whose status changed. */
  sweep(): void {
    for (const track of this.#units.values()) {
      if (this.#status(track) !== track.announced) this.#announce(track);
    }
  }

  /** Pins a unit's deployment point (the registry's site), replacing its first fix. */
  setDeployment(id: string, point: Point): void {
    this.#sites.set(id, point);
    const track = this.#units.get(id);
    if (track) track.deployment = point;
  }

  /** Sets (or, with null, clears back to the default) a unit's monthly data budget. */
  setDataBudget(id: string, bytes: number | null): void {
    if (bytes === null) this.#budgets.delete(id);
    else this.#budgets.set(id, bytes);
    const track = this.#units.get(id);
    if (track) this.#announce(track);
  }

  setCommissioning(id: string, summary: CommissioningSummary): void {
    this.#commissioning.set(id, summary);
    const track = this.#units.get(id);
    if (track) this.#announce(track);
  }

  has(id: string): boolean {
    return this.#units.has(id);
  }

  get(id: string): UnitView | undefined {
    const track = this.#units.get(id);
    return track && this.#view(track);
  }

  list(): UnitView[] {
    return [...this.#units.values()].map((t) => this.#view(t)).sort((a, b) => a.id.localeCompare(b.id));
  }

  #announce(track: Track): void {
    const view = this.#view(track);
    track.announced = view.liveness.status;
    this.emit('unit', view);
  }

  #status(track: Track): LivenessStatus {
    return classifyLiveness({ ...track.state, socTrendPctH: socTrend(track.samples) }, this.#clock.now(), this.#policy).status;
  }

  #view(track: Track): UnitView {
    const now = this.#clock.now();
    const s = track.state;
    const trend = socTrend(track.samples);
    return {
      ...s,
      liveness: classifyLiveness({ ...s, socTrendPctH: trend }, now, this.#policy),
      outlook: {
        power: powerOutlook(s.power, trend, now),
        location: locationOutlook(s.location, track.previousLocation, track.deployment),
        link: linkOutlook(s.link, this.#budgets.get(s.id) ?? null),
      },
      commissioning: this.#commissioning.get(s.id) ?? null,
    };
  }
}
