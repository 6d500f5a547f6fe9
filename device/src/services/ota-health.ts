import { decodeUplink, encodeUplink, type HealthCheck } from '@shouwang/protocol';
import { AlarmEngine, DEFAULT_ALARM_CONFIG } from '../domain/alarms.ts';

/**
 * What a new release must show before it is committed: the unit's real work, each part once.
 *   mqtt    a publish of its own acknowledged by the gateway (PUBACK);
 *   gps     a position fix from the receiver;
 *   camera  a frame captured (only on a unit with a camera);
 *   alarm   the alarm path: the rules raise a tamper alarm from a tampered reading and it encodes
 *           and decodes as the gateway checks it. In process only: a test alarm on the wire would
 *           open a ticket for a technician.
 */
export interface HealthProbes {
  published(): Promise<void>;
  fix(): boolean;
  frame?: () => Promise<void>;
  now(): number;
}

export function alarmPathWorks(now: number): boolean {
  const engine = new AlarmEngine(DEFAULT_ALARM_CONFIG, {});
  const raised = engine.evaluate({ ts: now, tamper: true, siteClosed: false }).find((e) => e.kind === 'tamper' && e.state === 'raised');
  if (!raised) return false;
  return decodeUplink('alarm', encodeUplink('alarm', { seq: 0, ...raised })).ok;
}

/**
 * Runs every check until all pass or `until` comes; resolves with the checks that failed (none
 * when healthy). `wait` sleeps between polls of the fix (the Clock's timer).
 */
export async function runHealthCheck(p: HealthProbes, until: number, wait: (ms: number) => Promise<void>): Promise<HealthCheck[]> {
  const passed = new Set<HealthCheck>();
  const tries: Promise<void>[] = [
    p.published().then(() => void passed.add('mqtt')),
    p.frame ? p.frame().then(() => void passed.add('camera')) : Promise.resolve(void passed.add('camera')),
  ].map((t) => t.catch(() => undefined));
  if (alarmPathWorks(p.now())) passed.add('alarm');
  void Promise.all(tries);
  while (p.now() < until) {
    if (p.fix()) passed.add('gps');
    if (passed.size === 4) return [];
    await wait(500);
  }
  return (['mqtt', 'gps', 'camera', 'alarm'] as const).filter((c) => !passed.has(c));
}
