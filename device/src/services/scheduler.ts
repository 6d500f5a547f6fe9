import type { Clock } from '@shouwang/hardware';
import { createTask, type ScheduledTask, validateDetailed } from 'node-cron';
import type { Logger } from 'pino';

/**
 * Cron schedules (node-cron 4 patterns, with seconds) in the process's local time (the composition
 * root sets TZ from `schedule.timezone`) on an injected Clock. node-cron's own timer
 * runs on the wall clock; here it only answers "does this pattern match this second?"
 * (`task.match`), and the Clock ticks once per second of unit time, so a test or a sped-up
 * simulator drives schedules without waiting. A job that throws is logged; the others go on.
 */
export interface Job {
  name: string;
  pattern: string;
  run: (at: number) => void | Promise<void>;
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly jobs = new Map<string, { job: Job; task: ScheduledTask; running: boolean }>();
  private timer: unknown;
  private lastSecond: number | undefined;

  constructor(clock: Clock, log: Logger) {
    this.clock = clock;
    this.log = log;
  }

  /** Adds or replaces a job. Throws with the field's problem for an invalid pattern. */
  set(job: Job): void {
    const v = validateDetailed(job.pattern);
    if (!v.valid)
      throw new Error(`invalid schedule ${JSON.stringify(job.pattern)}: ${v.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.remove(job.name);
    // Never started: node-cron's own timer stays off, the task is only a matcher. No `timezone`:
    // local time, which the unit's bundle reads without ICU (deploy/node-cron-local-time.ts).
    const task = createTask(job.pattern, () => undefined, { name: `device-${job.name}` });
    this.jobs.set(job.name, { job, task, running: false });
  }

  remove(name: string): void {
    const j = this.jobs.get(name);
    if (!j) return;
    void j.task.destroy();
    this.jobs.delete(name);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setInterval(() => this.tick(), 1000);
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    for (const name of [...this.jobs.keys()]) this.remove(name);
  }

  /** Runs every job whose pattern matches a second passed since the last tick (none are skipped if ticks bunch up). */
  tick(): void {
    const now = Math.floor(this.clock.now() / 1000);
    const from = this.lastSecond === undefined ? now : Math.max(this.lastSecond + 1, now - 3600);
    this.lastSecond = now;
    for (let s = from; s <= now; s++) {
      const date = new Date(s * 1000);
      for (const j of this.jobs.values()) if (j.task.match(date)) this.fire(j, s * 1000);
    }
  }

  private fire(j: { job: Job; running: boolean }, at: number): void {
    // No overlap: a snapshot that takes longer than its period skips a beat instead of piling up.
    if (j.running) return;
    let result: void | Promise<void>;
    try {
      result = j.job.run(at);
    } catch (err) {
      this.log.error({ err, job: j.job.name }, 'scheduled job failed');
      return;
    }
    if (!(result instanceof Promise)) return;
    j.running = true;
    result
      .catch((err: unknown) => this.log.error({ err, job: j.job.name }, 'scheduled job failed'))
      .finally(() => {
        j.running = false;
      });
  }
}
