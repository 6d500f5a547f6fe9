import { setTimeout as sleep } from 'node:timers/promises';
import type { TicketEvent } from '@shouwang/protocol';
import type { FlowsOutbox } from '../storage/flows-outbox.ts';

export interface LeaseWait {
  now: () => number;
  leaseMs: number;
  limit: number;
  /** How long to hold the call when nothing is ready. */
  waitMs: number;
  /**
   * While other fleet instances' commits are not heard (PostgreSQL with its listener down), their
   * events are found by asking again this often.
   */
  recheckMs: number;
  /** While they are heard, asked again this often anyway: a notification lost without a sign. */
  safetyMs: number;
  /** The caller went away or the fleet is closing: answer now (empty) and lease nothing more. */
  signal: AbortSignal;
}

/**
 * After a wake the lease found nothing for (this instance's own append on PostgreSQL wakes it
 * before its transaction commits), asked again after these delays, then as `recheckMs` or
 * `safetyMs` say — with other instances heard, the commit's notification wakes it before these.
 */
const AFTER_WAKE_MS = [10, 50, 150];

/**
 * A long-poll lease: events at once if any are ready, else the first ones to commit within
 * `waitMs`, else none; `at` is when they were leased. A change that makes events leasable
 * (outbox.leasable: on this instance, and through PostgreSQL notifications on the others) wakes
 * the wait; the wake is taken before each lease, so rows written while it runs are not missed.
 */
export async function leaseWaiting(outbox: FlowsOutbox, o: LeaseWait): Promise<{ events: TicketEvent[]; at: number }> {
  const end = o.now() + o.waitMs;
  let afterWake = -1;
  for (;;) {
    if (o.signal.aborted) return { events: [], at: o.now() };
    const next = outbox.leasable();
    try {
      const at = o.now();
      const events = await outbox.lease(at, o.leaseMs, o.limit);
      const left = end - o.now();
      if (events.length > 0 || left <= 0) return { events, at };
      const pause =
        afterWake >= 0 && afterWake < AFTER_WAKE_MS.length
          ? (AFTER_WAKE_MS[afterWake] as number)
          : outbox.othersHeard()
            ? o.safetyMs
            : o.recheckMs;
      const stop = new AbortController();
      const woke = await Promise.race([
        next.woken.then(() => true),
        sleep(Math.min(pause, left), false, { signal: AbortSignal.any([stop.signal, o.signal]) }).catch(() => false),
      ]);
      stop.abort();
      afterWake = woke ? 0 : afterWake >= 0 ? afterWake + 1 : -1;
    } finally {
      next.cancel();
    }
  }
}
