import { modemUp, type RungLimits } from './power.ts';

/** What waits in the outbox that may open a sleeping radio. */
export interface Waiting {
  alarms: number;
  /** Rows the satellite diet carries (alarms and digests). */
  satellite: number;
}

/**
 * The rung's modem duty: always up; up in the hourly window; or up only while an alarm (or, on the
 * lowest rungs, the compact status) waits to go. An alarm opens the radio on any rung.
 */
export function radioWanted(limits: RungLimits, now: number, waiting: Waiting): boolean {
  if (limits.modem === 'always') return true;
  if (waiting.alarms > 0) return true;
  if (limits.modem === 'windows') return modemUp(limits, now);
  return waiting.satellite > 0;
}
