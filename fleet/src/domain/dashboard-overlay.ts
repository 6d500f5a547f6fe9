import { SEVERITIES, type Severity } from '@shouwang/protocol';
import type { Light } from './ticket-flow.ts';
import type { UnitView } from './unit-state.ts';

/**
 * What the dashboard lays over the live state: each unit's standing alarms (the marker's alarm
 * kind) and each grid cell's open tickets (the cell's colour). Both live in the database, where
 * whichever instance took the alarm wrote them.
 */

/** A unit's alarms that stand: active or acknowledged, not cleared, not shelved, not inhibited. */
export interface UnitAlarms {
  count: number;
  /** The worst severity among them. */
  severity: Severity;
}

/** A grid cell's open (not closed) tickets and the worst traffic light among them. */
export interface CellTickets {
  cell: string;
  open: number;
  light: Light;
}

/** A unit as the dashboard's stream sends it: the live view and its standing alarms. */
export type DashboardUnit = UnitView & { alarms: UnitAlarms | null };

const LIGHTS: readonly Light[] = ['red', 'yellow', 'green'];

/** Worst first, for severities and lights alike: the lower index wins. */
export function worstSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

export function worstLight(a: Light, b: Light): Light {
  return LIGHTS.indexOf(a) <= LIGHTS.indexOf(b) ? a : b;
}

export function sameAlarms(a: UnitAlarms | null | undefined, b: UnitAlarms | null | undefined): boolean {
  return (a?.count ?? 0) === (b?.count ?? 0) && a?.severity === b?.severity;
}

/** Ids whose standing alarms differ between two snapshots (appeared, changed or gone). */
export function changedUnits(before: ReadonlyMap<string, UnitAlarms>, after: ReadonlyMap<string, UnitAlarms>): string[] {
  const ids = new Set([...before.keys(), ...after.keys()]);
  return [...ids].filter((id) => !sameAlarms(before.get(id), after.get(id)));
}

export function sameCells(a: readonly CellTickets[], b: readonly CellTickets[]): boolean {
  return a.length === b.length && a.every((c, i) => c.cell === b[i]?.cell && c.open === b[i]?.open && c.light === b[i]?.light);
}
