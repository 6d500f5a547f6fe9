import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import type { FlowsOutbox } from '../storage/flows-outbox.ts';
import { IntervalRuns } from '../storage/interval-runs.ts';
import type { Database } from '../storage/schema.ts';

export interface OutboxPruningOptions {
  db: Kysely<Database>;
  outbox: FlowsOutbox;
  policy: FleetConfig['flows']['outbox'];
  clock: { now(): number };
  instanceId: string;
  log: Logger;
}

/**
 * Delivered ticket events older than `keepDays` leave the outbox, once per `intervalS` across
 * every fleet instance (storage/interval-runs.ts, on `flows_timers`); the instance that claims the
 * run prunes in batches. Undelivered, leased and dead-lettered events are never pruned
 * (a dead letter stays until an operator retries it).
 */
export class OutboxPruning {
  readonly #o: OutboxPruningOptions;
  readonly #runs: IntervalRuns;

  constructor(o: OutboxPruningOptions) {
    this.#o = o;
    this.#runs = new IntervalRuns({ table: 'flows_timers', job: 'outbox-prune', intervalMs: o.policy.intervalS * 1000 });
  }

  /** Arms the current interval's run (kept if another instance armed it already). */
  async arm(): Promise<void> {
    await this.#runs.arm(this.#o.db, this.#o.clock.now());
  }

  /** Prunes if this instance claims a due run; null when none was due or another instance had it. */
  async runDue(): Promise<number | null> {
    return (await this.#runs.claim(this.#o.db, this.#o.clock.now(), this.#o.instanceId)) ? this.run() : null;
  }

  /** The pruning itself, now. */
  async run(): Promise<number> {
    const p = this.#o.policy;
    const before = this.#o.clock.now() - p.keepDays * 86_400_000;
    const pruned = await this.#o.outbox.pruneDelivered(before, p.pruneBatch);
    if (pruned > 0) this.#o.log.info({ pruned, before }, 'flows outbox: delivered events pruned');
    return pruned;
  }
}

/** Arms the pruning and polls for due runs every `pollS`; `close` stops polling and waits for a run under way. */
export async function startOutboxPruning(o: OutboxPruningOptions): Promise<{ pruning: OutboxPruning; close(): Promise<void> }> {
  const pruning = new OutboxPruning(o);
  await pruning.arm();
  let running: Promise<unknown> = Promise.resolve();
  const poll = setInterval(() => {
    running = pruning.runDue().catch((err: unknown) => o.log.error({ err }, 'flows outbox pruning failed; the next interval retries'));
  }, o.policy.pollS * 1000);
  return {
    pruning,
    async close() {
      clearInterval(poll);
      await running;
    },
  };
}
