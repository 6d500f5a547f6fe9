import type { DashboardUnit } from '../src/domain/dashboard-overlay.ts';
import type { Row } from './model.ts';

/**
 * A unit's worst condition, for the marker's colour (how bad) and shape (what kind): a commander
 * scanning dozens of units at night looks for red first, then for the shape to know whether to
 * send the police, someone with a battery or someone with a modem. Worst first: a standing alarm
 * (what the unit saw), then dark (liveness), then power, then link.
 */
export type Level = 'bad' | 'warn' | 'asleep' | 'ok' | 'unheard';
export type Cause = 'alarm' | 'liveness' | 'power' | 'link' | 'none';

export interface Condition {
  level: Level;
  cause: Cause;
}

export const LOW_SOC = 40;
export const CRITICAL_SOC = 15;

const RANK: Record<Level, number> = { bad: 0, warn: 1, unheard: 2, asleep: 3, ok: 4 };

export function condition(row: Row): Condition {
  const u = row.view;
  if (!u) return { level: 'unheard', cause: 'none' };
  const rest = readings(u);
  if (!u.alarms) return rest;
  // The kind is the alarm's; how bad is the worse of the alarm and the rest (a minor alarm on a dark unit is still red).
  const level: Level = u.alarms.severity === 'minor' || u.alarms.severity === 'info' ? 'warn' : 'bad';
  return { level: RANK[rest.level] < RANK[level] ? rest.level : level, cause: 'alarm' };
}

/** The worst of what the unit's readings say: liveness, power, link. */
function readings(u: DashboardUnit): Condition {
  const status = u.liveness.status;
  if (status === 'late' || status === 'missing' || status === 'presumed-out-of-power') return { level: 'bad', cause: 'liveness' };
  const soc = u.power?.soc;
  if (soc !== undefined && soc < CRITICAL_SOC) return { level: 'bad', cause: 'power' };
  if (u.outlook.link.budgetHoursLeft !== null && u.outlook.link.budgetHoursLeft <= 0) return { level: 'bad', cause: 'link' };
  if (soc !== undefined && soc < LOW_SOC) return { level: 'warn', cause: 'power' };
  if (weakLink(u)) return { level: 'warn', cause: 'link' };
  if (status === 'on-schedule') return { level: 'asleep', cause: 'liveness' };
  return { level: 'ok', cause: 'none' };
}

function weakLink(u: DashboardUnit): boolean {
  return (u.link !== null && u.link.type !== 'satellite' && (u.link.bars ?? 0) <= 1) || u.outlook.link.budgetHoursLeft !== null;
}

/** Worst first, then by id: the "worst first" sort and the marker cluster's colour. */
export function worse(a: Condition, b: Condition): number {
  return RANK[a.level] - RANK[b.level];
}
