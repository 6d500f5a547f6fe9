import type { LinkType, MaintenanceWindow, OtaReason, PowerState, ReleaseArtifact, ReleaseManifest, UpdateJob } from '@shouwang/protocol';

/**
 * The update's pure decisions: whether a job may go on now, which artifact to fetch, and what the
 * launcher boots. The services do the I/O around them (ota-service.ts, deploy/boot-select.ts).
 */

export interface Conditions {
  now: number;
  /** Minutes since local midnight in the unit's time zone. */
  localMinutes: number;
  soc: number | undefined;
  link: LinkType;
  powerState: PowerState;
  board: string;
  /** The running agent's state version (services/state-migrations.ts STATE_VERSION). */
  stateVersion: number;
}

export type Go = { go: true } | { go: false; step: 'deferred' | 'failed'; reason: OtaReason; detail: string };

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

export function inWindow(w: MaintenanceWindow, localMinutes: number): boolean {
  const start = minutes(w.start);
  const end = minutes(w.end);
  if (start === end) return true;
  return start < end ? localMinutes >= start && localMinutes < end : localMinutes >= start || localMinutes < end;
}

/**
 * Before each active step: the deadline, the board and a state this agent could not read after a
 * rollback end a job; battery, link and window only
 * defer it (a unit waiting for sun is not a failed one). `deep-sleep` and `satellite-digest` rungs
 * count as no cellular link: the power ladder has already decided the radio is too dear.
 */
export function mayProceed(job: UpdateJob, manifest: ReleaseManifest, c: Conditions): Go {
  if (c.now > job.deadline)
    return { go: false, step: 'failed', reason: 'deadline', detail: `deadline ${new Date(job.deadline).toISOString()} passed` };
  if (!manifest.boards.includes(c.board))
    return { go: false, step: 'failed', reason: 'board', detail: `release is for ${manifest.boards.join(', ')}, not ${c.board}` };
  const readableFrom = manifest.stateReadableFrom ?? 1;
  if (readableFrom > c.stateVersion) {
    return {
      go: false,
      step: 'failed',
      reason: 'state',
      detail: `release writes state ${manifest.stateVersion} readable only from state ${readableFrom}; this agent (state ${c.stateVersion}) could not roll back to it`,
    };
  }
  const floor = Math.max(manifest.minBatteryPct, job.policy.minBatteryPct ?? 0);
  if (c.soc === undefined || c.soc < floor) {
    return {
      go: false,
      step: 'deferred',
      reason: 'battery',
      detail: `battery ${c.soc === undefined ? 'unknown' : `${c.soc.toFixed(1)} %`} below ${floor} %`,
    };
  }
  if (c.link === 'none') return { go: false, step: 'deferred', reason: 'link', detail: 'no link' };
  const satellite = c.link === 'satellite' || c.powerState === 'satellite-digest' || c.powerState === 'deep-sleep';
  if (satellite && !job.policy.allowSatellite) return { go: false, step: 'deferred', reason: 'link', detail: 'satellite only, not forced' };
  if (job.policy.window && !inWindow(job.policy.window, c.localMinutes)) {
    return { go: false, step: 'deferred', reason: 'window', detail: `outside ${job.policy.window.start}–${job.policy.window.end}` };
  }
  return { go: true };
}

export type Choice =
  | { kind: 'delta'; artifact: ReleaseArtifact; url: string }
  | { kind: 'full'; artifact: ReleaseArtifact; url: string; why: string }
  | { kind: 'none'; detail: string };

/**
 * A delta only if it was made from exactly the bundle in the running slot (version and hash), the
 * job says where to get it, and it has not already failed to verify here; otherwise the full
 * bundle, with the reason, so the fleet counts it and the maintainer reads why.
 */
export function chooseArtifact(
  job: UpdateJob,
  manifest: ReleaseManifest,
  running: { version: string; sha256: string | undefined },
  deltaFailed = false,
): Choice {
  const url = (name: string) => job.artifacts.find((a) => a.name === name)?.url;
  const delta = manifest.deltas.find((d) => d.from === running.version);
  const full = url(manifest.full.name);
  let why = `no delta from ${running.version}`;
  if (delta && deltaFailed) why = `the delta from ${delta.from} did not verify here`;
  else if (delta) {
    const at = url(delta.name);
    if (delta.fromSha256 !== running.sha256) why = `running bundle differs from the ${delta.from} the delta was made from`;
    else if (at === undefined) why = `no location for the delta from ${delta.from}`;
    else return { kind: 'delta', artifact: delta, url: at };
  }
  if (full === undefined) return { kind: 'none', detail: `${why}, and no location for ${manifest.full.name}` };
  return { kind: 'full', artifact: manifest.full, url: full, why };
}

/**
 * Where a simulated power cut can strike an update (`ota.simPowerCutAt`): after each step is
 * persisted, and between the writes of the switch and of the commit.
 */
export const OTA_CUT_POINTS = [
  'downloading',
  'verifying',
  'installed',
  'trial-written',
  'switched',
  'health-check',
  'boot-committed',
] as const;
export type OtaCutPoint = (typeof OTA_CUT_POINTS)[number];

export type Slot = 'a' | 'b';
export const otherSlot = (s: Slot): Slot => (s === 'a' ? 'b' : 'a');

/**
 * The launcher's state beside the slots (boot.json). `trial` is written before the switch: the
 * new slot gets `maxBoots` starts to commit (a crash loop uses them up), and `until` bounds the
 * health check across restarts. `abandon` marks a trial being rolled back (by the launcher after a
 * crash loop, or by the agent whose health check failed); `last` says how the latest trial ended,
 * for the agent in the previous slot to report.
 */
export type RollbackReason = 'crash-loop' | 'health-check';
export interface BootState {
  format: 1;
  trial?: {
    slot: Slot;
    previous: Slot;
    boots: number;
    maxBoots: number;
    until: number;
    campaign: string;
    version: string;
    abandon?: RollbackReason;
  };
  last?: { slot: Slot; campaign: string; version: string; outcome: 'rolled-back'; reason: RollbackReason; at: number };
}

/** What the launcher writes and boots: `before` is written before `current` is switched to `boot`, `after` once it is. */
export interface BootDecision {
  boot: Slot;
  before?: BootState;
  after?: BootState;
}

/**
 * What the launcher does before each start of the agent; every write is repeatable, so a power
 * cut between any two of them leads to the same end. A trial whose slot `current` does not point
 * at was never switched to (a cut between writing the trial and the switch): it is dropped, and
 * the agent still holding the job switches again.
 */
export function bootDecision(state: BootState, current: Slot, now: number): BootDecision {
  const t = state.trial;
  if (!t) return { boot: current };
  const abandon = t.abandon ?? (t.slot === current && t.boots >= t.maxBoots ? 'crash-loop' : undefined);
  if (abandon) {
    const last = { slot: t.slot, campaign: t.campaign, version: t.version, outcome: 'rolled-back', reason: abandon, at: now } as const;
    return { boot: t.previous, before: { ...state, trial: { ...t, abandon } }, after: { format: 1, last } };
  }
  if (t.slot !== current) return { boot: current, after: { format: 1, ...(state.last ? { last: state.last } : {}) } };
  return { boot: current, after: { ...state, trial: { ...t, boots: t.boots + 1 } } };
}
