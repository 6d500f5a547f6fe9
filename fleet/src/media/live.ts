import type { CommandData } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { FEED_FOR_S, KEEPALIVE_S, liveRefusal, type WatchAnswer } from '../domain/live-feed.ts';
import type { UnitState } from '../domain/unit-state.ts';
import type { CommandClient } from '../services/commands.ts';

/** A feed with less than this left is renewed by the next keep-alive. */
const RENEW_WITHIN_MS = (FEED_FOR_S - KEEPALIVE_S) * 1000;
const ANSWER_TIMEOUT_MS = 20_000;

interface Watched {
  feed: Extract<WatchAnswer, { state: 'live' }> | undefined;
  viewers: Map<string, number>;
  /** When the feed runs out if not renewed, on the fleet's clock (the unit's may differ). */
  expires: number;
  asking: Promise<WatchAnswer> | undefined;
}

/**
 * Live feeds as command watches them. Each open player sends a keep-alive (`watch`) every
 * `KEEPALIVE_S`; the first starts the unit's feed (`live-start`), later ones renew it before it
 * runs out, all viewers of a unit sharing one feed. A feed nobody renews ends on the unit by
 * itself `FEED_FOR_S` after the last keep-alive (a closed tab, a lost phone), and the last viewer
 * leaving stops it at once. A unit that refuses (satellite, critical power, no data left) says
 * why, with its latest still to show instead.
 */
export class LiveViewing {
  readonly #commands: Pick<CommandClient, 'send'>;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #unit: (id: string) => UnitState | undefined;
  readonly #latestSnapshot: (id: string) => Promise<string | undefined>;
  readonly #units = new Map<string, Watched>();

  constructor(o: {
    commands: Pick<CommandClient, 'send'>;
    /** What the unit last reported (its link and power rung). */
    unit: (id: string) => UnitState | undefined;
    /** The newest still the fleet holds of the unit, to show instead of a refused feed. */
    latestSnapshot: (id: string) => Promise<string | undefined>;
    now: () => number;
    log: Logger;
  }) {
    this.#commands = o.commands;
    this.#unit = o.unit;
    this.#latestSnapshot = o.latestSnapshot;
    this.#now = o.now;
    this.#log = o.log;
  }

  /** A viewer's keep-alive: the unit's feed, started or renewed as needed, or the unit's refusal. */
  async watch(unitId: string, viewer: string): Promise<WatchAnswer> {
    const refusal = liveRefusal(this.#unit(unitId));
    if (refusal) {
      const snapshot = await this.#latestSnapshot(unitId);
      return { state: 'refused', ...refusal, ...(snapshot ? { snapshot } : {}) };
    }
    const now = this.#now();
    const w = this.#units.get(unitId) ?? { feed: undefined, viewers: new Map(), expires: 0, asking: undefined };
    this.#units.set(unitId, w);
    w.viewers.set(viewer, now);
    for (const [v, seen] of w.viewers) if (now - seen > FEED_FOR_S * 1000) w.viewers.delete(v);
    if (w.feed && w.expires - now > RENEW_WITHIN_MS) return w.feed;
    if (w.expires <= now) w.feed = undefined;
    // Viewers arriving together share one request to the unit.
    w.asking ??= this.#ask(unitId, w).finally(() => {
      w.asking = undefined;
    });
    return w.asking;
  }

  /** A player closed: the last one out stops the feed rather than leaving it to run out. */
  async leave(unitId: string, viewer: string): Promise<void> {
    const w = this.#units.get(unitId);
    if (!w?.viewers.delete(viewer) || w.viewers.size > 0) return;
    this.#units.delete(unitId);
    if (!w.feed) return;
    const r = await this.#commands.send(unitId, 'live-stop', { feed: w.feed.feed }, { timeoutMs: ANSWER_TIMEOUT_MS });
    this.#log.info(
      { unitId, feed: w.feed.feed, answer: r.status === 'ok' ? r.data.state : r.error.code },
      'live feed stopped: nobody watching',
    );
  }

  async #ask(unitId: string, w: Watched): Promise<WatchAnswer> {
    const args = { forS: FEED_FOR_S, ...(w.feed ? { feed: w.feed.feed } : {}) };
    const asked = this.#now();
    const r = await this.#commands.send(unitId, 'live-start', args, { timeoutMs: ANSWER_TIMEOUT_MS });
    if (r.status === 'error') throw new LiveRefused(unitId, r.error.code, r.error.message);
    const d: CommandData<'live-start'> = r.data;
    if (d.state === 'refused') {
      w.feed = undefined;
      return d;
    }
    if (w.feed?.feed !== d.feed) this.#log.info({ unitId, feed: d.feed, kbps: d.bitrateKbps }, 'live feed started');
    w.expires = asked + FEED_FOR_S * 1000;
    w.feed = { state: 'live', feed: d.feed, until: d.until, segmentMs: d.segmentMs, bitrateKbps: d.bitrateKbps };
    return w.feed;
  }
}

/** The unit answered `live-start` with an error (not a refusal the ladder explains). */
export class LiveRefused extends Error {
  readonly code: string;
  constructor(unitId: string, code: string, message: string) {
    super(`${unitId} answered: ${message}`);
    this.name = 'LiveRefused';
    this.code = code;
  }
}
