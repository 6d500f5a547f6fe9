import type { UpdatePolicy } from '@shouwang/protocol';
import type { RolloutTarget } from './rollout-plan.ts';
import type { Bucket, CampaignState, Counts, Reachability, UnitRolloutState } from './rollout-status.ts';

export type PauseReason =
  | { by: 'person'; who: string; role: string; reason?: string }
  | { by: 'failures'; failures: number; released: number; thresholdPct: number };

export function pauseText(p: PauseReason): string {
  return p.by === 'person'
    ? `paused by ${p.who} (${p.role})${p.reason ? `: ${p.reason}` : ''}`
    : `${p.failures} of ${p.released} units failed or rolled back (threshold ${p.thresholdPct} %)`;
}

/** A campaign and its units as the API, the CLI and the dashboard show them. */
export interface UnitView {
  unitId: string;
  wave: number;
  state: UnitRolloutState;
  bucket: Bucket;
  reach: Reachability;
  download: string | null;
  fromVersion: string | null;
  bytes: number | null;
  totalBytes: number | null;
  transferred: number | null;
  etaS: number | null;
  /** Why the unit deferred or failed: the protocol's OTA_REASONS, or `aborted`. */
  reason: string | null;
  failedChecks: string[];
  soc: number | null;
  detail: string | null;
  deliveredAt: number | null;
  updatedAt: number;
}

export interface CampaignView {
  id: string;
  name: string;
  version: string;
  state: CampaignState;
  /** Why the campaign is paused, in words (CLI), and as data (the dashboard words it in its language). */
  pauseReason: string | null;
  pause: PauseReason | null;
  target: RolloutTarget;
  canary: number;
  waves: number[];
  failureThreshold: number;
  soakS: number;
  policy: UpdatePolicy;
  createdAt: number;
  createdBy: string;
  startedAt: number | null;
  deadlineAt: number | null;
  /** How long after its start the campaign ends. */
  deadlineH: number;
  finishedAt: number | null;
  releasedWave: number;
  /**
   * When the next wave is looked at, while the campaign runs: it goes then if the units released
   * have settled, else it is looked at again a little later. Null when no wave is due.
   */
  nextWaveAt: number | null;
  counts: Counts;
  /** Units fetching a delta and units fetching the full bundle (no delta applied to what they run): never silent. */
  downloads: { delta: number; full: number };
  /** Each wave's size and counts, canary first. */
  waveSummary: { wave: number; units: number; released: boolean; counts: Counts }[];
}
