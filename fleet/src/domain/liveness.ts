import type { Power, Presence } from '@shouwang/protocol';

/**
 * Liveness that understands planned sleep. A unit that goes offline on purpose declares in its
 * presence when it will next be heard (`nextContactBy`); only a unit that misses its own promise is
 * late, then missing. One fixed inactivity timeout (the common complaint about existing platforms)
 * would call every sleeping unit dead, or notice a dead one hours too late.
 *
 * - `online`: connected now.
 * - `restarting`: said offline on its way into another release (an update or its rollback), not
 *   yet past the update's health window; past it, it is late like any unit that broke its word.
 * - `on-schedule`: silent, but inside its declared window (or inside `silenceMs` for a unit that
 *   publishes no presence at all).
 * - `late`: past the window by less than the grace period: a modem window can slip, a dropped
 *   link (last will, no promise) can come back.
 * - `missing`: past the grace period, and its last power reading does not explain the silence.
 * - `presumed-out-of-power`: past the grace period, and the last charge and its trend say the
 *   battery was (or has since become) empty: send someone with a charger, not a search party.
 */
export const LIVENESS = ['online', 'restarting', 'on-schedule', 'late', 'missing', 'presumed-out-of-power'] as const;
export type LivenessStatus = (typeof LIVENESS)[number];

export interface LivenessPolicy {
  /** How long a unit that declared nothing may stay silent before it is late. */
  silenceMs: number;
  /** Slack after the deadline before late becomes missing: max(graceMinMs, graceFraction × planned sleep). */
  graceMinMs: number;
  graceFraction: number;
  /** State of charge at or under which a silent unit is presumed out of power, %. */
  emptySoc: number;
}

export const DEFAULT_LIVENESS_POLICY: LivenessPolicy = {
  silenceMs: 15 * 60_000,
  graceMinMs: 10 * 60_000,
  graceFraction: 0.25,
  emptySoc: 10,
};

export interface Liveness {
  status: LivenessStatus;
  /** When the unit is due to be heard from again, ms; null while online or never heard. */
  dueBy: number | null;
  /** When it becomes missing (or presumed out of power) if still silent, ms. */
  missingAfter: number | null;
  /** Last state of charge reported, % (the evidence for `presumed-out-of-power`). */
  lastSoc: number | null;
  /** State-of-charge trend from recent readings, %/h; negative while draining. */
  socTrendPctH: number | null;
  /** State of charge projected to now from the last reading and its trend, %. */
  projectedSoc: number | null;
  /** The release a `restarting` unit restarts into. */
  restartingInto: string | null;
}

export interface LivenessInput {
  online: boolean;
  lastSeen: number | null;
  presence: Presence | null;
  power: Power | null;
  socTrendPctH: number | null;
}

export function classifyLiveness(u: LivenessInput, now: number, policy: LivenessPolicy = DEFAULT_LIVENESS_POLICY): Liveness {
  const lastSoc = u.power?.soc ?? null;
  const projectedSoc = projectSoc(u.power, u.socTrendPctH, now);
  const base = { lastSoc, socTrendPctH: u.socTrendPctH, projectedSoc, restartingInto: null };
  if (u.online) return { status: 'online', dueBy: null, missingAfter: null, ...base };
  const silentSince = u.lastSeen ?? u.presence?.ts ?? null;
  if (silentSince === null) return { status: 'missing', dueBy: null, missingAfter: null, ...base };
  // A restart's promise is the update's health window, whatever sleep the rung would have promised.
  const restarting = u.presence?.state === 'offline' ? u.presence.restarting : undefined;
  // A promise made before the last sign of life is still the promise: the unit sleeps until then.
  const declared = restarting?.by ?? u.presence?.nextContactBy;
  const dueBy =
    declared !== undefined && declared > silentSince
      ? declared
      : // An `offline` with no promise is a dropped link (the last will), overdue at once; a unit
        // that never spoke of presence at all gets the default silence.
        u.presence?.state === 'offline'
        ? silentSince
        : silentSince + policy.silenceMs;
  const missingAfter = dueBy + Math.max(policy.graceMinMs, policy.graceFraction * (dueBy - silentSince));
  if (restarting && now < dueBy) return { status: 'restarting', dueBy, missingAfter, ...base, restartingInto: restarting.into };
  if (now < dueBy) return { status: 'on-schedule', dueBy, missingAfter, ...base };
  if (now <= missingAfter) return { status: 'late', dueBy, missingAfter, ...base };
  const empty =
    u.power !== null && (u.power.soc <= policy.emptySoc || u.power.state === 'deep-sleep' || (projectedSoc !== null && projectedSoc <= 0));
  return { status: empty ? 'presumed-out-of-power' : 'missing', dueBy, missingAfter, ...base };
}

/** Last reading carried forward along its trend (only downwards: a silent unit is not assumed to charge). */
function projectSoc(power: Power | null, trendPctH: number | null, now: number): number | null {
  if (!power) return null;
  if (trendPctH === null || trendPctH >= 0 || now <= power.ts) return power.soc;
  return Math.max(0, power.soc + (trendPctH * (now - power.ts)) / 3_600_000);
}
