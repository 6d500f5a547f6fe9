import type { Clock } from '@shouwang/hardware';
import type { CommissionItem } from '@shouwang/protocol';
import type { Logger } from 'pino';
import { daylightDue, daylightReason, judgeCharge } from '../domain/commissioning.ts';
import type { MonitorReading } from '../drivers/power-monitor.ts';
import { logStateFile, readStateFile, writeStateFile } from './state-file.ts';
import { within } from './within.ts';

/**
 * A unit dropped at night leaves its charge check pending (no harvest in the dark proves nothing);
 * this judges it by itself at first light, once, and reports it as commissioning does. The pending
 * check is kept on disk (commission.json, stamped like the agent's other state files) so a restart
 * in between does not forget it; a later run by hand replaces it.
 */
export interface DaylightRecheckDeps {
  file: string;
  clock: Clock;
  log: Logger;
  /** The sun's elevation over the unit now, degrees; undefined without a fix. */
  sunDeg: () => number | undefined;
  monitors: () => Promise<Record<string, MonitorReading | undefined>>;
  /** Hands the judged item on (the commission event). */
  report: (item: CommissionItem, reason: string) => void;
  /** How often it looks at the sky, in the unit's time. */
  everyMs?: number;
  /** Bounds the monitors' read (wall clock: physical I/O). */
  timeoutMs?: number;
}

interface Saved {
  /** The run that left the charge check pending, ms (unit's clock). */
  chargePendingSince?: number;
}

/** Five minutes of the unit's time: the sun climbs about a degree meanwhile. */
const EVERY_MS = 5 * 60_000;

export class DaylightRecheck {
  readonly #d: DaylightRecheckDeps;
  #since: number | undefined;
  #timer: unknown;
  #busy = false;
  #stopped = false;

  constructor(d: DaylightRecheckDeps) {
    this.#d = d;
    const read = readStateFile<Saved>(d.file, {});
    logStateFile(d.log, d.file, read);
    const since = read.value.chargePendingSince;
    if (since !== undefined && !Number.isFinite(since)) d.log.error({ file: d.file, since }, 'pending charge check unreadable: dropped');
    else this.#since = since;
  }

  /** The run that left the charge pending, ms; undefined when nothing waits for daylight. */
  get pendingSince(): number | undefined {
    return this.#since;
  }

  /** After each commissioning run: remember a charge check it left pending, or forget one it judged. */
  afterRun(items: readonly CommissionItem[], at: number): void {
    const pending = items.some((i) => i.check === 'charge' && i.pending === true);
    this.#save(pending ? at : undefined);
  }

  start(): void {
    this.#timer = this.#d.clock.setInterval(() => void this.check(), this.#d.everyMs ?? EVERY_MS);
    void this.check();
  }

  stop(): void {
    this.#stopped = true;
    this.#d.clock.clearInterval(this.#timer);
  }

  /** Judges the pending check when the sun is up; resolves with the item judged, if it was. */
  async check(): Promise<CommissionItem | undefined> {
    if (this.#since === undefined || this.#busy) return undefined;
    const sun = this.#d.sunDeg();
    if (!daylightDue(sun)) return undefined;
    this.#busy = true;
    try {
      const m = await within(this.#d.monitors(), this.#d.timeoutMs ?? 20_000).catch(
        () => ({}) as Record<string, MonitorReading | undefined>,
      );
      // Meanwhile a run by hand may have judged it, or the agent be closing.
      if (this.#since === undefined || this.#stopped) return undefined;
      const item: CommissionItem = { ...judgeCharge(m.solar, m.wind, sun), judgedAt: this.#d.clock.now() };
      const reason = daylightReason(item);
      this.#d.log.info({ module: 'commission', item, pendingSince: this.#since, sunDeg: Math.round(sun) }, reason);
      // Reported before it is forgotten: a cut in between judges it again, never loses it.
      this.#d.report(item, reason);
      this.#save(undefined);
      return item;
    } finally {
      this.#busy = false;
    }
  }

  #save(since: number | undefined): void {
    this.#since = since;
    writeStateFile(this.#d.file, since === undefined ? {} : { chargePendingSince: since });
  }
}
