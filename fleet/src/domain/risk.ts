import type { UnitView } from './unit-state.ts';

/**
 * The fleet-wide "units at risk in the next N hours" list for emergency command: units that
 * have already gone dark, then units whose battery, or whose monthly data budget (a SIM that
 * stops at its cap goes as dark as a flat battery), is forecast to run out inside the horizon,
 * soonest first.
 */
export const RISK_REASONS = ['presumed-out-of-power', 'missing', 'late', 'battery', 'data-budget'] as const;
export type RiskReason = (typeof RISK_REASONS)[number];

export interface AtRisk {
  id: string;
  reason: RiskReason;
  /** Hours until the unit is expected to go dark; 0 when it already has. */
  hoursLeft: number;
  soc: number | null;
  socTrendPctH: number | null;
}

export function unitsAtRisk(units: readonly UnitView[], horizonH: number): AtRisk[] {
  const out: AtRisk[] = [];
  for (const u of units) {
    const base = { id: u.id, soc: u.liveness.projectedSoc, socTrendPctH: u.liveness.socTrendPctH };
    const status = u.liveness.status;
    if (status === 'presumed-out-of-power' || status === 'missing' || status === 'late') {
      out.push({ ...base, reason: status, hoursLeft: 0 });
      continue;
    }
    const left = u.outlook.power.timeToEmptyH;
    if (left !== null && left <= horizonH) out.push({ ...base, reason: 'battery', hoursLeft: left });
    const data = u.outlook.link.budgetHoursLeft;
    if (data !== null && data <= horizonH) out.push({ ...base, reason: 'data-budget', hoursLeft: data });
  }
  const rank = (r: AtRisk) => RISK_REASONS.indexOf(r.reason);
  return out.sort((a, b) => a.hoursLeft - b.hoursLeft || rank(a) - rank(b) || a.id.localeCompare(b.id));
}
