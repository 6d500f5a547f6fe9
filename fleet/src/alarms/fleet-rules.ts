import type { Logger } from 'pino';
import type { AlarmRecord } from '../domain/alarm-engine.ts';
import { type AlarmRules, conditionTime, FLEET_ALARM_KINDS, type FleetAlarmKind, holds } from '../domain/alarm-rules.ts';
import type { UnitView } from '../domain/unit-state.ts';
import type { AlarmService } from './alarm-service.ts';

/**
 * The fleet's own alarms over live state (missed contact window, offline, power running out, left
 * the site, SIM near its cap, camera lost), raised and cleared as each unit's view changes. The
 * occurrence is the condition's event time (a missed window happened at its deadline), so two
 * instances seeing the same view raise the same occurrence and the store keeps one episode.
 */
export class FleetRuleWatcher {
  readonly #service: AlarmService;
  readonly #rules: AlarmRules;
  readonly #log: Logger;
  readonly #clock: { now(): number };
  /** unit/kind → the occurrence raised. */
  readonly #active = new Map<string, string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(service: AlarmService, clock: { now(): number }, log: Logger) {
    this.#service = service;
    this.#rules = service.rules;
    this.#clock = clock;
    this.#log = log;
  }

  /** What was raised before a restart is still raised. */
  restore(open: readonly AlarmRecord[]): void {
    for (const r of open) this.#active.set(`${r.unitId}/${r.kind}`, r.episode.split('~').at(-1) ?? r.episode);
  }

  /** Evaluates one unit's view; signals queue in order, one at a time. */
  observe(view: UnitView): void {
    const now = this.#clock.now();
    for (const kind of FLEET_ALARM_KINDS) {
      const rule = this.#rules.kinds[kind];
      if (!rule.when) continue;
      const key = `${view.id}/${kind}`;
      const on = holds(rule.when, view);
      const raised = this.#active.get(key);
      if (on === (raised !== undefined)) continue;
      const ts = on ? conditionTime(rule.when, view, now) : now;
      const occurrence = on ? String(ts) : (raised as string);
      if (on) this.#active.set(key, occurrence);
      else this.#active.delete(key);
      this.#enqueue(view.id, kind, occurrence, on, ts, now, rule.severity ?? 'minor');
    }
  }

  /** Resolves when every queued signal is stored. */
  idle(): Promise<void> {
    return this.#chain;
  }

  #enqueue(
    unitId: string,
    kind: FleetAlarmKind,
    occurrence: string,
    on: boolean,
    ts: number,
    now: number,
    severity: AlarmRecord['severity'],
  ) {
    this.#chain = this.#chain.then(() =>
      this.#service
        .signal({ unitId, kind, occurrence, state: on ? 'raised' : 'cleared', severity, source: 'fleet', ts, receivedAt: now })
        .catch((err: unknown) => {
          // Forget it so the next view change tries again.
          if (on) this.#active.delete(`${unitId}/${kind}`);
          else this.#active.set(`${unitId}/${kind}`, occurrence);
          this.#log.error({ err, unitId, kind }, 'fleet-side alarm not stored');
        }),
    );
  }
}
