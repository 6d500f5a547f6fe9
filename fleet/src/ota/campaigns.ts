import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ReleaseManifest, UpdatePolicy } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { assignWaves, checkWavePlan, type RolloutTarget, selectTargets } from '../domain/rollout-plan.ts';
import {
  acceptsReport,
  atDeadline,
  bucketOf,
  type CampaignMove,
  type CampaignState,
  countBuckets,
  isComplete,
  isTerminal,
  mayAdvance,
  mayMove,
  type Reachability,
  shouldPause,
  UNIT_STATES,
  type UnitRolloutState,
} from '../domain/rollout-status.ts';
import { type CampaignView, type PauseReason, pauseText, type UnitView } from '../domain/rollout-view.ts';
import type { OtaStore } from '../storage/ota-store.ts';
import type { Database, OtaCampaignRow, OtaCampaignUnitRow, UnitRow } from '../storage/schema.ts';
import { type DueTimer, SqlTimers } from '../storage/sql-timers.ts';

export type { CampaignView, UnitView };

export interface CampaignInput {
  name: string;
  version: string;
  target: RolloutTarget;
  canary: number;
  /** Units to put in the canary group first, when in the target. */
  canaryUnits?: string[] | undefined;
  waves: number[];
  failureThreshold: number;
  soakS: number;
  deadlineH: number;
  policy: UpdatePolicy;
}

/** A unit's job as the fleet hands it to the wire adapter (see ota/wire.ts). */
export interface JobOrder {
  campaignId: string;
  unitId: string;
  version: string;
  deadlineAt: number;
  policy: UpdatePolicy;
}

/** The unit's answer to being handed its job: the state it took the job into, and why when it refused. */
export interface DeliveryAnswer {
  state: UnitReport['state'];
  detail?: string | undefined;
}

/** How jobs reach units: a request they answer, or a failure (no answer: the job stays queued). */
export interface JobPort {
  deliver(order: JobOrder): Promise<DeliveryAnswer>;
  /** Asks the unit to drop the campaign's job; one past the switch runs to its outcome. */
  cancel(unitId: string, campaignId: string): Promise<DeliveryAnswer>;
}

/** A unit's progress or outcome, as the wire adapter reads it from the unit's report. */
export interface UnitReport {
  campaignId: string;
  /** The unit's message sequence: a report older than the last one taken changes nothing. */
  seq: number;
  state: Exclude<UnitRolloutState, 'pending' | 'queued' | 'no-report'>;
  bytes?: number | undefined;
  totalBytes?: number | undefined;
  /** Bytes fetched over the link, resumes included. */
  transferred?: number | undefined;
  etaS?: number | undefined;
  download?: 'delta' | 'full' | undefined;
  fromVersion?: string | undefined;
  reason?: string | undefined;
  failedChecks?: string[] | undefined;
  soc?: number | undefined;
  detail?: string | undefined;
}

/** Who acts on a campaign: the API token's name and role. */
export interface Actor {
  name: string;
  role: string;
}

export class CampaignError extends Error {
  readonly code: 'NOT_FOUND' | 'CONFLICT' | 'INVALID' | 'NO_RELEASE' | 'EMPTY_TARGET';
  readonly path: string | undefined;
  constructor(code: CampaignError['code'], message: string, path?: string) {
    super(message);
    this.code = code;
    this.path = path;
  }
}

export interface CampaignServiceOptions {
  store: OtaStore;
  /** The registry's units, to resolve targets. */
  registryUnits(): Promise<UnitRow[]>;
  reach(unitId: string): Reachability;
  jobs: JobPort;
  clock: { now(): number };
  instanceId: string;
  /** How soon a wave that could not go yet (units still working) is looked at again, ms. */
  recheckMs: number;
  /** A job handed to a unit that is online and has not answered is handed again after this long, ms. */
  retryMs: number;
  log: Logger;
}

const LIVE_STATES = UNIT_STATES.filter((s) => s !== 'pending' && !isTerminal(s));
const TIMERS = new SqlTimers('ota_timers', 'campaign_id');

function waveTimer(wave: number, at: number): DueTimer['kind'] {
  // A wave looked at again gets a new row: each row fires once.
  return `wave-${wave}@${at}`;
}

function parseWaveTimer(kind: string): number | null {
  const m = /^wave-(\d+)@\d+$/.exec(kind);
  return m ? Number(m[1]) : null;
}

/**
 * Rollout campaigns: a target resolved from the registry, split into a canary group and waves;
 * waves released by timers (SQL-claimed, once across instances), jobs handed to units that can be
 * reached and kept for those asleep until they wake, each unit's reports folded in, and the
 * campaign paused by itself when confirmed failures pass its threshold. Emits `campaign` with the
 * id of every campaign that changed (the dashboard's stream).
 */
export class CampaignService extends EventEmitter<{ campaign: [string] }> {
  readonly #o: CampaignServiceOptions;
  /** Deliveries under way, so a wake and a beat do not hand the same job twice at once. */
  readonly #delivering = new Set<string>();
  /** Hand-overs run behind the caller (a sleeping unit's answer may take the whole answer timeout). */
  readonly #background = new Set<Promise<void>>();

  constructor(o: CampaignServiceOptions) {
    super();
    this.#o = o;
    this.setMaxListeners(0);
  }

  async create(input: CampaignInput, actor: Actor): Promise<CampaignView> {
    const problems = checkWavePlan(input);
    const first = problems[0];
    if (first) throw new CampaignError('INVALID', first.message, first.path);
    const release = await this.#o.store.getRelease(input.version);
    if (!release) throw new CampaignError('NO_RELEASE', `no release ${input.version}`, '/version');
    const id = randomUUID();
    // A unit registered on a board the release does not run on is left out, not counted a failure
    // when it refuses; a unit whose board is unknown is offered the job and decides.
    const boards = (JSON.parse(release.manifest) as ReleaseManifest).boards;
    const registry = (await this.#o.registryUnits()).filter((u) => u.revoked_at === null && (u.board === null || boards.includes(u.board)));
    const ordered = selectTargets(
      id,
      registry.map((u) => ({ id: u.id, board: u.board, tags: JSON.parse(u.tags) as string[], site: u.site_name, cell: u.grid_cell })),
      input.target,
      input.canaryUnits,
    );
    if (ordered.length === 0)
      throw new CampaignError('EMPTY_TARGET', `no registered unit on ${boards.join(', ')} matches the target`, '/target');
    const waves = assignWaves(ordered, input);
    const now = this.#o.clock.now();
    const row: OtaCampaignRow = {
      id,
      name: input.name,
      version: input.version,
      target: JSON.stringify(input.target),
      canary: input.canary,
      waves: JSON.stringify(input.waves),
      wave_count: waves.length,
      failure_threshold: input.failureThreshold,
      soak_ms: input.soakS * 1000,
      policy: JSON.stringify(input.policy),
      state: 'draft',
      released_wave: -1,
      pause_reason: null,
      deadline_ms: input.deadlineH * 3_600_000,
      deadline_at: null,
      created_at: now,
      created_by: `${actor.name} (${actor.role})`,
      started_at: null,
      finished_at: null,
      updated_at: now,
    };
    const units = waves.flatMap((ids, wave) =>
      ids.map(
        (unitId): OtaCampaignUnitRow => ({
          campaign_id: id,
          unit_id: unitId,
          wave,
          state: 'pending',
          reported: 0,
          report_seq: null,
          from_version: null,
          download: null,
          bytes: null,
          total_bytes: null,
          transferred: null,
          eta_s: null,
          reason: null,
          failed_checks: null,
          soc: null,
          detail: null,
          delivered_at: null,
          updated_at: now,
        }),
      ),
    );
    await this.#o.store.insertCampaign(row, units);
    this.#o.log.info({ campaign: id, version: input.version, units: units.length, waves: waves.length, actor }, 'campaign created');
    return this.#viewOf(row, units, null);
  }

  /** A person's move on a campaign, with their reason if they gave one; 409 for a move its state does not allow. */
  async move(id: string, move: CampaignMove, actor: Actor, reason?: string): Promise<CampaignView> {
    const now = this.#o.clock.now();
    await this.#o.store.db.transaction().execute(async (tx) => {
      const c = await this.#o.store.lockCampaign(tx, id);
      if (!c) throw new CampaignError('NOT_FOUND', `no campaign ${id}`);
      if (!mayMove(c.state as CampaignState, move)) throw new CampaignError('CONFLICT', `a ${c.state} campaign cannot ${move}`);
      const ok = await this.#o.store.moveCampaign(tx, id, c.state, { ...this.#patchFor(c, move, actor, now, reason), updated_at: now });
      if (!ok) throw new CampaignError('CONFLICT', `campaign ${id} changed meanwhile; read it again`);
      if (move === 'start') {
        await this.#o.store.moveUnits(tx, id, ['pending'], { state: 'queued', updated_at: now }, 0);
        await TIMERS.add(tx, [
          { owner: id, kind: 'deadline', dueAt: now + c.deadline_ms },
          ...(c.wave_count > 1 ? [{ owner: id, kind: waveTimer(1, now + c.soak_ms), dueAt: now + c.soak_ms }] : []),
        ]);
      }
      if (move === 'resume' && c.released_wave + 1 < c.wave_count)
        await TIMERS.add(tx, [{ owner: id, kind: waveTimer(c.released_wave + 1, now), dueAt: now }]);
      // Units that never had the job end here; those that have it are asked to drop it (below).
      if (move === 'abort')
        await this.#o.store.moveUnits(tx, id, ['pending', 'queued'], {
          state: 'cancelled',
          reason: 'aborted',
          detail: 'campaign aborted',
          updated_at: now,
        });
    });
    this.#o.log.info({ campaign: id, move, actor, reason }, 'campaign moved');
    this.emit('campaign', id);
    if (move === 'start' || move === 'resume') this.#behind(this.deliver(id));
    if (move === 'abort') this.#behind(this.#cancelAll(id));
    return this.view(id);
  }

  #behind(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.#o.log.error({ err }, 'job hand-over failed'));
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  /** A unit just woke up: the jobs that waited for it go now. */
  wake(unitId: string): void {
    this.#behind(this.deliver(null, unitId));
  }

  /** Resolves once every hand-over under way has ended (before the fleet closes its session). */
  async idle(): Promise<void> {
    while (this.#background.size > 0) await Promise.all([...this.#background]);
  }

  /** Each unit holding an aborted campaign's job is told to drop it; its answer (or later reports) say how it ended. */
  async #cancelAll(id: string): Promise<void> {
    const db = this.#o.store.db;
    const live = (await this.#o.store.units(db, id)).filter((u) => (LIVE_STATES as readonly string[]).includes(u.state));
    await Promise.all(
      live.map(async (u) => {
        try {
          const a = await this.#o.jobs.cancel(u.unit_id, id);
          const patch = { state: a.state, ...(a.detail ? { detail: a.detail } : {}), updated_at: this.#o.clock.now() };
          await this.#o.store.moveUnit(db, id, u.unit_id, LIVE_STATES, patch);
        } catch (err) {
          this.#o.log.info({ err, unitId: u.unit_id, campaign: id }, 'cancel not answered; the unit gives the job up at its deadline');
        }
      }),
    );
    this.emit('campaign', id);
  }

  #patchFor(c: OtaCampaignRow, move: CampaignMove, actor: Actor, now: number, reason: string | undefined): Partial<OtaCampaignRow> {
    switch (move) {
      case 'start':
        return { state: 'running', released_wave: 0, started_at: now, deadline_at: now + c.deadline_ms };
      case 'pause':
        return {
          state: 'paused',
          pause_reason: JSON.stringify({
            by: 'person',
            who: actor.name,
            role: actor.role,
            ...(reason ? { reason } : {}),
          } satisfies PauseReason),
        };
      case 'resume':
        return { state: 'running', pause_reason: null };
      case 'abort':
        return { state: 'aborted', finished_at: now };
    }
  }

  async view(id: string): Promise<CampaignView> {
    const db = this.#o.store.db;
    const c = await this.#o.store.getCampaign(db, id);
    if (!c) throw new CampaignError('NOT_FOUND', `no campaign ${id}`);
    return this.#viewOf(c, await this.#o.store.units(db, id), await this.#nextWave(c));
  }

  async list(limit: number): Promise<CampaignView[]> {
    const rows = await this.#o.store.listCampaigns(limit);
    return Promise.all(rows.map(async (c) => this.#viewOf(c, await this.#o.store.units(this.#o.store.db, c.id), await this.#nextWave(c))));
  }

  /** A paused campaign keeps its timer, but no wave goes until it is resumed (which sets one anew). */
  async #nextWave(c: OtaCampaignRow): Promise<number | null> {
    return c.state === 'running' ? this.#o.store.nextWaveDue(this.#o.store.db, c.id) : null;
  }

  async units(id: string): Promise<UnitView[]> {
    const db = this.#o.store.db;
    if (!(await this.#o.store.getCampaign(db, id))) throw new CampaignError('NOT_FOUND', `no campaign ${id}`);
    return (await this.#o.store.units(db, id)).map((u) => this.#unitView(u));
  }

  #unitView(u: OtaCampaignUnitRow): UnitView {
    const reach = this.#o.reach(u.unit_id);
    const state = u.state as UnitRolloutState;
    return {
      unitId: u.unit_id,
      wave: u.wave,
      state,
      bucket: bucketOf(state, reach),
      reach,
      download: u.download,
      fromVersion: u.from_version,
      bytes: u.bytes,
      totalBytes: u.total_bytes,
      transferred: u.transferred,
      etaS: u.eta_s,
      reason: u.reason,
      failedChecks: u.failed_checks ? (JSON.parse(u.failed_checks) as string[]) : [],
      soc: u.soc,
      detail: u.detail,
      deliveredAt: u.delivered_at,
      updatedAt: u.updated_at,
    };
  }

  #viewOf(c: OtaCampaignRow, rows: readonly OtaCampaignUnitRow[], nextWaveAt: number | null): CampaignView {
    // Why it is paused, while it is: a campaign that ended after a pause (its last units done, or aborted) is not paused.
    const pause = c.state === 'paused' && c.pause_reason ? (JSON.parse(c.pause_reason) as PauseReason) : null;
    const units = rows.map((u) => ({ state: u.state as UnitRolloutState, reach: this.#o.reach(u.unit_id), wave: u.wave }));
    return {
      id: c.id,
      name: c.name,
      version: c.version,
      state: c.state as CampaignState,
      pauseReason: pause && pauseText(pause),
      pause,
      target: JSON.parse(c.target) as RolloutTarget,
      canary: c.canary,
      waves: JSON.parse(c.waves) as number[],
      failureThreshold: c.failure_threshold,
      soakS: c.soak_ms / 1000,
      policy: JSON.parse(c.policy) as UpdatePolicy,
      createdAt: c.created_at,
      createdBy: c.created_by,
      startedAt: c.started_at,
      deadlineAt: c.deadline_at,
      deadlineH: c.deadline_ms / 3_600_000,
      finishedAt: c.finished_at,
      releasedWave: c.released_wave,
      nextWaveAt,
      counts: countBuckets(units),
      downloads: { delta: rows.filter((u) => u.download === 'delta').length, full: rows.filter((u) => u.download === 'full').length },
      waveSummary: Array.from({ length: c.wave_count }, (_, wave) => {
        const mine = units.filter((u) => u.wave === wave);
        return { wave, units: mine.length, released: wave <= c.released_wave, counts: countBuckets(mine) };
      }),
    };
  }

  /** Folds in a unit's report; a report for a job it does not hold, or after its end, changes nothing. */
  async report(unitId: string, r: UnitReport): Promise<boolean> {
    const now = this.#o.clock.now();
    const changed = await this.#o.store.db.transaction().execute(async (tx) => {
      const c = await this.#o.store.lockCampaign(tx, r.campaignId);
      const u = c && (await this.#o.store.unit(tx, c.id, unitId));
      if (!c || !u || !acceptsReport(u.state as UnitRolloutState)) return false;
      if (u.report_seq !== null && r.seq <= u.report_seq) return false;
      const patch: Partial<OtaCampaignUnitRow> = { state: r.state, reported: 1, report_seq: r.seq, updated_at: now };
      if (r.bytes !== undefined) patch.bytes = r.bytes;
      if (r.totalBytes !== undefined) patch.total_bytes = r.totalBytes;
      if (r.transferred !== undefined) patch.transferred = r.transferred;
      patch.eta_s = r.etaS ?? null;
      if (r.download !== undefined) patch.download = r.download;
      if (r.fromVersion !== undefined) patch.from_version = r.fromVersion;
      if (r.detail !== undefined) patch.detail = r.detail;
      // Reason and checks belong to the step reported: a later step without one clears them.
      patch.reason = r.reason ?? null;
      patch.failed_checks = r.failedChecks?.length ? JSON.stringify(r.failedChecks) : null;
      patch.soc = r.soc ?? null;
      if (!(await this.#o.store.moveUnit(tx, c.id, unitId, LIVE_STATES, patch))) return false;
      await this.#settle(tx, c, now);
      return true;
    });
    if (changed) this.emit('campaign', r.campaignId);
    return changed;
  }

  /** After a unit's change: pause on failures, complete when every unit is at an end. */
  async #settle(tx: Kysely<Database>, c: OtaCampaignRow, now: number): Promise<void> {
    if (c.state !== 'running' && c.state !== 'paused') return;
    const units = (await this.#o.store.units(tx, c.id)).map((u) => ({
      ...u,
      unitId: u.unit_id,
      state: u.state as UnitRolloutState,
      reported: u.reported === 1,
    }));
    if (isComplete(units, c.released_wave, c.wave_count - 1)) {
      await this.#o.store.moveCampaign(tx, c.id, c.state, { state: 'completed', finished_at: now, updated_at: now });
      this.#o.log.info({ campaign: c.id }, 'campaign complete');
      return;
    }
    const p = shouldPause(units, c.released_wave, { failureThreshold: c.failure_threshold });
    if (c.state === 'running' && p.pause) {
      const released = units.filter((u) => u.wave <= c.released_wave).length;
      const reason: PauseReason = { by: 'failures', failures: p.failures, released, thresholdPct: Math.round(c.failure_threshold * 100) };
      await this.#o.store.moveCampaign(tx, c.id, 'running', { state: 'paused', pause_reason: JSON.stringify(reason), updated_at: now });
      this.#o.log.warn({ campaign: c.id, failures: p.failures, released }, 'campaign paused by itself');
    }
  }

  /** Fires due wave and deadline timers (each once across instances), then hands out what they released. */
  async runDue(): Promise<number> {
    const touched = new Set<string>();
    const fired = await TIMERS.fireDue(this.#o.store.db, this.#o.clock.now(), this.#o.instanceId, async (tx, t) => {
      if (await this.#fire(tx, t)) touched.add(t.owner);
    });
    for (const id of touched) this.emit('campaign', id);
    // Every beat: what the timers released, and jobs still waiting on a unit that is online.
    for (const c of await this.#o.store.campaignsIn('running')) this.#behind(this.deliver(c.id));
    return fired;
  }

  async #fire(tx: Kysely<Database>, t: DueTimer): Promise<boolean> {
    const now = this.#o.clock.now();
    const c = await this.#o.store.lockCampaign(tx, t.owner);
    if (!c) return false;
    if (t.kind === 'deadline') {
      if (c.state !== 'running' && c.state !== 'paused') return false;
      for (const u of await this.#o.store.units(tx, c.id)) {
        const to = atDeadline({ unitId: u.unit_id, wave: u.wave, state: u.state as UnitRolloutState, reported: u.reported === 1 });
        if (to) await this.#o.store.moveUnit(tx, c.id, u.unit_id, [u.state], { state: to, updated_at: now });
      }
      await this.#o.store.moveCampaign(tx, c.id, c.state, { state: 'completed', finished_at: now, updated_at: now });
      this.#o.log.info({ campaign: c.id }, 'campaign deadline: every unfinished unit counted');
      return true;
    }
    const wave = parseWaveTimer(t.kind);
    // Paused: resume sets the wave's timer again. Released already: a repeated timer changes nothing.
    if (wave === null || c.state !== 'running' || c.released_wave >= wave) return false;
    const rows = await this.#o.store.units(tx, c.id);
    const units = rows.map((u) => ({
      unitId: u.unit_id,
      wave: u.wave,
      state: u.state as UnitRolloutState,
      reported: u.reported === 1,
      reach: this.#o.reach(u.unit_id),
    }));
    if (shouldPause(units, c.released_wave, { failureThreshold: c.failure_threshold }).pause) return false;
    if (!mayAdvance(units, c.released_wave)) {
      await TIMERS.add(tx, [{ owner: c.id, kind: waveTimer(wave, now + this.#o.recheckMs), dueAt: now + this.#o.recheckMs }]);
      return false;
    }
    await this.#o.store.moveCampaign(tx, c.id, 'running', { released_wave: wave, updated_at: now });
    await this.#o.store.moveUnits(tx, c.id, ['pending'], { state: 'queued', updated_at: now }, wave);
    if (wave + 1 < c.wave_count)
      await TIMERS.add(tx, [{ owner: c.id, kind: waveTimer(wave + 1, now + c.soak_ms), dueAt: now + c.soak_ms }]);
    this.#o.log.info({ campaign: c.id, wave }, 'wave released');
    return true;
  }

  /**
   * Hands queued jobs out: those of a campaign never sent yet, or every queued job of one unit that
   * has just woken. A sleeping unit's job waits in its persistent session at the gateway (QoS 1,
   * expiring at the deadline); one that is not answered stays queued and goes again at the next wake.
   */
  async deliver(campaignId: string | null, unitId?: string): Promise<void> {
    const db = this.#o.store.db;
    const jobs = unitId ? await this.#o.store.queuedFor(unitId) : campaignId ? await this.#unsentIn(campaignId) : [];
    await Promise.all(
      jobs.map(async (j) => {
        const key = `${j.campaign_id}/${j.unit_id}`;
        if (this.#delivering.has(key)) return;
        this.#delivering.add(key);
        try {
          if (!(await this.#o.store.markHanded(db, j.campaign_id, j.unit_id, j.delivered_at, this.#o.clock.now()))) return;
          const order: JobOrder = {
            campaignId: j.campaign_id,
            unitId: j.unit_id,
            version: j.version,
            deadlineAt: j.deadline_at ?? 0,
            policy: JSON.parse(j.policy) as UpdatePolicy,
          };
          await this.#afterDelivery(db, j, await this.#o.jobs.deliver(order));
        } catch (err) {
          this.#o.log.debug({ err, unitId: j.unit_id, campaign: j.campaign_id }, 'job not answered; kept for the next contact');
        } finally {
          this.#delivering.delete(key);
        }
      }),
    );
  }

  /**
   * Queued jobs of a running campaign never handed over, and those handed to a unit that is online
   * but did not answer within `retryMs` (the fleet restarted before the answer, the publish was
   * lost): a unit that never sleeps never "wakes", so the beat tries again.
   */
  async #unsentIn(campaignId: string) {
    const db = this.#o.store.db;
    const c = await this.#o.store.getCampaign(db, campaignId);
    if (c?.state !== 'running') return [];
    const stale = this.#o.clock.now() - this.#o.retryMs;
    return (await this.#o.store.units(db, campaignId))
      .filter((u) => u.state === 'queued' && (u.delivered_at === null || (u.delivered_at < stale && this.#o.reach(u.unit_id) === 'online')))
      .map((u) => ({ ...u, version: c.version, deadline_at: c.deadline_at, policy: c.policy }));
  }

  async #afterDelivery(db: Kysely<Database>, j: OtaCampaignUnitRow, a: DeliveryAnswer): Promise<void> {
    const now = this.#o.clock.now();
    const patch: Partial<OtaCampaignUnitRow> = { state: a.state, ...(a.detail ? { detail: a.detail } : {}) };
    await db.transaction().execute(async (tx) => {
      // Campaign row first, as a report takes it: the same lock order everywhere.
      const c = await this.#o.store.lockCampaign(tx, j.campaign_id);
      if (!c || !(await this.#o.store.moveUnit(tx, j.campaign_id, j.unit_id, ['queued'], { ...patch, reported: 1, updated_at: now })))
        return;
      await this.#settle(tx, c, now);
    });
    this.emit('campaign', j.campaign_id);
  }
}
