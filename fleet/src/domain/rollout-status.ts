/**
 * Where each unit of a campaign stands and what the campaign does next: pure decisions over the
 * units' rows, the time and what liveness says of each unit.
 *
 * The states a unit goes through:
 * - `pending`: its wave is not released yet.
 * - `queued`: released; the job waits for the unit to be reachable (asleep units get it on waking).
 * - `delivered`: the unit has the job and has not said more.
 * - `deferred`: the unit holds the job back on its own policy (battery, link, maintenance window).
 * - `downloading` … `health-check`: working on it (`UNIT_STEPS`).
 * - `updated`: committed after its health check. `failed`, `rolled-back`: confirmed failures.
 * - `no-report`: the campaign's deadline came and the unit had said nothing of this job;
 *   `expired`: it had, but never finished. `cancelled`: the campaign was aborted first.
 *
 * Waiting is not failing: a unit asleep on schedule (liveness `on-schedule`, also one that went
 * to sleep mid-download) or deferring for power or link counts as `waiting` and never towards the
 * pause threshold; only the deadline ends its wait.
 */

export const UNIT_STEPS = ['downloading', 'verifying', 'installing', 'restarting', 'health-check'] as const;
export type UnitStep = (typeof UNIT_STEPS)[number];

export const TERMINAL_STATES = ['updated', 'failed', 'rolled-back', 'no-report', 'expired', 'cancelled'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];

export const UNIT_STATES = ['pending', 'queued', 'delivered', 'deferred', ...UNIT_STEPS, ...TERMINAL_STATES] as const;
export type UnitRolloutState = (typeof UNIT_STATES)[number];

/** What a person reads first: the count buckets of the campaign page, CLI and API. */
export const BUCKETS = [
  'pending',
  'waiting',
  'in-progress',
  'updated',
  'failed',
  'rolled-back',
  'no-report',
  'expired',
  'cancelled',
] as const;
export type Bucket = (typeof BUCKETS)[number];

export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'completed', 'aborted'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface RolloutUnit {
  unitId: string;
  wave: number;
  state: UnitRolloutState;
  /** Whether the unit has said anything of this job (a report, or an answer to its delivery). */
  reported: boolean;
}

/** Liveness as the rollout needs it: asleep on schedule, or reachable now. */
export type Reachability = 'online' | 'asleep' | 'unreachable';

const STEP_SET: ReadonlySet<string> = new Set(UNIT_STEPS);
const TERMINAL_SET: ReadonlySet<string> = new Set(TERMINAL_STATES);

export function isTerminal(s: UnitRolloutState): s is TerminalState {
  return TERMINAL_SET.has(s);
}

export function isStep(s: string): s is UnitStep {
  return STEP_SET.has(s);
}

/** The bucket a unit is counted in, given whether it can be reached now. */
export function bucketOf(s: UnitRolloutState, reach: Reachability): Bucket {
  switch (s) {
    case 'pending':
      return 'pending';
    case 'deferred':
      return 'waiting';
    case 'queued':
    case 'delivered':
      // A job not yet taken up by a unit that sleeps or has dropped off is waiting on the unit.
      return reach === 'online' ? 'in-progress' : 'waiting';
    case 'downloading':
    case 'verifying':
    case 'installing':
      // Gone to planned sleep mid-download: the unit resumes where it stopped when it wakes.
      return reach === 'asleep' ? 'waiting' : 'in-progress';
    case 'restarting':
    case 'health-check':
      // Silent while it switches slots: that is the step, not sleep.
      return 'in-progress';
    case 'updated':
    case 'failed':
    case 'rolled-back':
    case 'no-report':
    case 'expired':
    case 'cancelled':
      return s;
  }
}

export type Counts = Record<Bucket, number>;

export function countBuckets(units: readonly { state: UnitRolloutState; reach: Reachability }[]): Counts {
  const c = Object.fromEntries(BUCKETS.map((b) => [b, 0])) as Counts;
  for (const u of units) c[bucketOf(u.state, u.reach)]++;
  return c;
}

export interface PausePolicy {
  /** Pause when confirmed failures and rollbacks exceed this share of the units released (0–1). */
  failureThreshold: number;
}

/** Confirmed failures (failed and rolled back) among the released units, against the threshold. */
export function shouldPause(units: readonly RolloutUnit[], released: number, p: PausePolicy): { pause: boolean; failures: number } {
  const failures = units.filter((u) => u.wave <= released && (u.state === 'failed' || u.state === 'rolled-back')).length;
  const total = units.filter((u) => u.wave <= released).length;
  return { pause: total > 0 && failures / total > p.failureThreshold, failures };
}

/**
 * Whether the next wave may go once its soak time is over: the released units have each settled —
 * updated, failed, no report, or waiting on sleep or policy — and at least one of them proved the
 * release by committing it. A unit still working holds the wave back; the deadline ends that.
 */
export function mayAdvance(units: readonly (RolloutUnit & { reach: Reachability })[], released: number): boolean {
  const mine = units.filter((u) => u.wave <= released);
  if (!mine.some((u) => u.state === 'updated')) return false;
  return mine.every((u) => bucketOf(u.state, u.reach) !== 'in-progress');
}

/** Every wave released and every unit at an end: the campaign is complete. */
export function isComplete(units: readonly RolloutUnit[], released: number, lastWave: number): boolean {
  return released >= lastWave && units.every((u) => isTerminal(u.state));
}

/** At the deadline: what each unfinished unit becomes. */
export function atDeadline(u: RolloutUnit): TerminalState | null {
  if (isTerminal(u.state)) return null;
  if (u.state === 'pending') return 'cancelled';
  return u.reported ? 'expired' : 'no-report';
}

/** A report may move a unit forward, never back from an end (a late or repeated report changes nothing). */
export function acceptsReport(current: UnitRolloutState): boolean {
  return !isTerminal(current) && current !== 'pending';
}

/** Moves a campaign may make from its state (the API answers 409 to the rest). */
export const CAMPAIGN_MOVES = {
  start: ['draft'],
  pause: ['running'],
  resume: ['paused'],
  abort: ['draft', 'running', 'paused'],
} as const satisfies Record<string, readonly CampaignState[]>;
export type CampaignMove = keyof typeof CAMPAIGN_MOVES;

export function mayMove(state: CampaignState, move: CampaignMove): boolean {
  return (CAMPAIGN_MOVES[move] as readonly CampaignState[]).includes(state);
}
