import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AlarmLoop } from '../alarms/loop.ts';
import { isShelved, isStale } from '../domain/alarm-engine.ts';
import type { LoopChange, LoopChangeSource } from '../services/loop-changes.ts';
import { episodesByIds, ticketsByIds } from '../storage/loop-feed-reads.ts';
import { areaNames } from './area-names.ts';
import { gridIds, ticketView } from './ticket-routes.ts';

/** Changes heard within this are read and pushed together: a storm of 1,000 alarms is a few pushes, not 1,000. */
export const COALESCE_MS = 250;
/** The flood report looks back as far as GET /api/alarms/flood does by default. */
const FLOOD_WINDOW_MS = 24 * 3_600_000;

type AlarmViews = Awaited<ReturnType<AlarmLoop['alarms']['list']>>;
type FloodDistricts = Awaited<ReturnType<AlarmLoop['alarms']['flood']>>;

export interface LoopFeedEvents {
  /** Changed episodes as GET /api/alarms shows them (cleared ones too: the console drops them). */
  alarms: [{ now: number; alarms: AlarmViews; names: Record<string, string> }];
  /** The flood state per district as GET /api/alarms/flood answers it, after episodes changed. */
  flood: [{ districts: FloodDistricts; names: Record<string, string> }];
  /** Changed tickets as GET /api/tickets shows them. */
  tickets: [{ now: number; tickets: ReturnType<typeof ticketView>[]; names: Record<string, string> }];
}

/**
 * The alarm console's, the ticket queue's and the ticket page's push: what the alarm loop
 * committed, read once per COALESCE_MS from the database and sent to every open view on the
 * dashboard's stream as the rows the list routes answer. Rows, not ids: with ids the views would
 * each ask, so N consoles would cost the fleet N reads per change; read here, a change costs one
 * read however many are open, and the rows are the committed ones (read after the commit, never
 * the writer's copy). The flood state is computed once per push that changed episodes.
 *
 * What this cannot see — a change committed by another fleet instance — reaches the views on their
 * slow reconcile (fleet/web/loop-beat.ts). Nothing is read while no view listens.
 */
export class LoopFeed extends EventEmitter<LoopFeedEvents> {
  readonly #o: { loop: AlarmLoop; now: () => number; log: Logger; coalesceMs: number };
  readonly #episodes = new Set<string>();
  readonly #tickets = new Set<string>();
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reading: Promise<void> | null = null;
  #closed = false;
  /** Pushes sent and reads that failed, for health and the tests. */
  readonly counts = { pushes: 0, failures: 0 };

  constructor(o: { loop: AlarmLoop; source: LoopChangeSource; now: () => number; log: Logger; coalesceMs?: number }) {
    super();
    this.#o = { loop: o.loop, now: o.now, log: o.log, coalesceMs: o.coalesceMs ?? COALESCE_MS };
    this.#unsubscribe = o.source.subscribe((c) => this.#note(c));
  }

  #listened(): boolean {
    return this.listenerCount('alarms') + this.listenerCount('flood') + this.listenerCount('tickets') > 0;
  }

  #note(c: LoopChange): void {
    if (!this.#listened()) return;
    for (const e of c.episodes ?? []) this.#episodes.add(e);
    for (const t of c.tickets ?? []) this.#tickets.add(t);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#reading || (this.#episodes.size === 0 && this.#tickets.size === 0)) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reading = this.#push().finally(() => {
        this.#reading = null;
        this.#schedule();
      });
    }, this.#o.coalesceMs);
  }

  async #push(): Promise<void> {
    const episodes = [...this.#episodes];
    const tickets = [...this.#tickets];
    this.#episodes.clear();
    this.#tickets.clear();
    const { loop, now } = this.#o;
    try {
      const db = loop.ticketStore.db;
      const [records, rows] = await Promise.all([episodesByIds(db, episodes), ticketsByIds(db, tickets)]);
      const at = now();
      if (records.length) {
        const rules = loop.alarms.rules;
        const alarms = records.map((r) => ({ ...r, stale: isStale(rules, r, at), shelved: isShelved(r, at) }));
        this.emit('alarms', {
          now: at,
          alarms,
          names: areaNames(
            loop.grid,
            alarms.map((a) => a.district),
          ),
        });
        const districts = await loop.alarms.flood(at - FLOOD_WINDOW_MS, at);
        this.emit('flood', {
          districts,
          names: areaNames(
            loop.grid,
            districts.map((d) => d.district),
          ),
        });
      }
      if (rows.length) this.emit('tickets', { now: at, tickets: rows.map(ticketView), names: areaNames(loop.grid, rows.flatMap(gridIds)) });
      this.counts.pushes++;
    } catch (err) {
      // The views reconcile on their own beat: a failed read delays the change, it loses nothing.
      this.counts.failures++;
      this.#o.log.warn({ err, episodes: episodes.length, tickets: tickets.length }, 'live views: reading what changed failed');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#reading;
  }
}
