import type { UplinkKind, UplinkPayload } from '@shouwang/protocol';
import { influxFromUrl } from '@shouwang/runtime/influx';
import type { InfluxDB } from 'influx';
import type { Logger } from 'pino';
import { type Point, toPoints } from '../domain/points.ts';
import type { Journal } from './journal.ts';

/**
 * Ships journaled readings to InfluxDB (1.x HTTP API: Debian's 1.6, and the 1.x compatibility
 * API of 2.x/3.x) in batches, at event time, advancing a cursor only after InfluxDB accepted the
 * batch. If InfluxDB is down the journal simply grows; nothing acknowledged is lost.
 */
const CURSOR = 'influx';

export interface ForwarderOptions {
  url: string;
  database: string;
  journal: Journal;
  log: Logger;
  batchSize?: number;
  idleMs?: number;
  maxBackoffMs?: number;
}

export class InfluxForwarder {
  readonly #o: Required<ForwarderOptions>;
  readonly #influx: InfluxDB;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #stopped = false;
  #failures = 0;
  forwarded = 0;
  lastError: string | undefined;

  constructor(options: ForwarderOptions) {
    this.#o = { batchSize: 5000, idleMs: 250, maxBackoffMs: 30_000, ...options };
    this.#influx = influxFromUrl(options.url, options.database);
  }

  start(): void {
    this.#schedule(0);
  }

  /** Rows the journal holds that InfluxDB does not have yet. */
  lag(): number {
    return this.#o.journal.behind(CURSOR);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    while (this.#running) await new Promise((r) => setTimeout(r, 10));
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#pump().catch((err: unknown) => this.#o.log.error({ err }, 'forwarder crashed'));
    }, ms);
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      for (;;) {
        if (this.#stopped) return;
        const rows = this.#o.journal.after(CURSOR, this.#o.batchSize);
        if (rows.length === 0) break;
        const points: Point[] = rows.flatMap((r) =>
          toPoints(r.unit, r.kind as UplinkKind, JSON.parse(r.payload) as UplinkPayload<UplinkKind>),
        );
        try {
          if (this.#failures > 0 || this.forwarded === 0) await this.#ensureDatabase();
          await this.#influx.writePoints(points, { precision: 'ms' });
        } catch (err) {
          this.#failures++;
          this.lastError = (err as Error).message;
          const backoff = Math.min(2 ** this.#failures * 250, this.#o.maxBackoffMs);
          this.#o.log.warn({ err: this.lastError, backoffMs: backoff, behind: this.lag() }, 'InfluxDB write failed; will retry');
          this.#schedule(backoff);
          return;
        }
        this.#failures = 0;
        this.lastError = undefined;
        this.forwarded += rows.length;
        this.#o.journal.advance(CURSOR, (rows.at(-1) as { id: number }).id);
      }
      this.#schedule(this.#o.idleMs);
    } finally {
      this.#running = false;
    }
  }

  async #ensureDatabase(): Promise<void> {
    const names = await this.#influx.getDatabaseNames();
    if (!names.includes(this.#o.database)) await this.#influx.createDatabase(this.#o.database);
  }
}
