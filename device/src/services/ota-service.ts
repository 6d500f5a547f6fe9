import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '@shouwang/hardware';
import {
  type HealthCheck,
  OTA_STEP_CLASS,
  type OtaReason,
  type OtaStatus,
  type OtaStep,
  type ReleaseArtifact,
  type TrustedKeys,
  type UpdateJob,
} from '@shouwang/protocol';
import type { Logger } from 'pino';
import { type Conditions, chooseArtifact, mayProceed, type OtaCutPoint, otherSlot, type Slot } from '../domain/ota-plan.ts';
import { DownloadError, type DownloadProgress, discardDownload, downloadOnce, downloadProgress, readPart } from './ota-download.ts';
import { type HealthProbes, runHealthCheck } from './ota-health.ts';
import {
  currentSlot,
  installIntoSlot,
  readBootState,
  readSlotBundle,
  sha256,
  slotBundleSha,
  switchTo,
  writeBootState,
} from './ota-slots.ts';
import { verifyManifest } from './ota-trust.ts';
import { applyDelta, decompressFull } from './ota-zstd.ts';
import { logStateFile, readStateFile, writeStateFile } from './state-file.ts';
import { STATE_VERSION } from './state-migrations.ts';

/**
 * The update on the unit, as steps persisted before each is taken (<dataDir>/ota/job.json), so a
 * restart or a power cut resumes the step it was in: queued/deferred → downloading → verifying →
 * installing (into the slot not running) → restarting (trial written, `current` switched, process
 * exits for systemd to start the new slot) → health-check in the new release → committed, or
 * rolled back by the launcher (deploy/boot-select.ts) and reported by the previous release.
 */
export interface OtaDeps {
  dataDir: string;
  slotsDir: string;
  trusted: TrustedKeys;
  board: string;
  version: string;
  clock: Clock;
  log: Logger;
  conditions(): Omit<Conditions, 'now' | 'board' | 'stateVersion'>;
  /** Queues a report on the `ota` uplink; returns its seq. */
  report(status: Omit<OtaStatus, 'seq'>): number;
  health: Omit<HealthProbes, 'now' | 'published'> & { delivered(seq: number): Promise<void> };
  /** Ends the process so the supervisor starts `current` (systemd's Restart=always). */
  exit(): void;
  maxBoots: number;
  healthDeadlineMs: number;
  retryMs: number;
  /** The simulator's power cut at a point of the update (tests of recovery); absent on a unit. */
  cut?: (at: OtaCutPoint) => void;
}

interface JobRecord {
  format: 1;
  job: UpdateJob;
  version: string;
  step: OtaStep;
  reason?: OtaReason;
  detail?: string;
  from: { version: string; slot: Slot };
  artifact?: ReleaseArtifact & { url: string; kind: 'delta' | 'full' };
  failedChecks?: HealthCheck[];
  download?: DownloadProgress & { kind: 'delta' | 'full' };
  /** A failed delta is not fetched again: the full bundle it fell back to is. */
  deltaFailed?: boolean;
}

const ACTIVE_ORDER: readonly OtaStep[] = ['queued', 'deferred', 'downloading', 'verifying', 'installing', 'restarting', 'health-check'];

export class OtaService {
  private readonly d: OtaDeps;
  private readonly file: string;
  private readonly slot: Slot;
  private rec: JobRecord | undefined;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastProgressAt = 0;
  private exiting: { into: string; by: number } | undefined;

  constructor(deps: OtaDeps) {
    this.d = deps;
    mkdirSync(join(deps.dataDir, 'ota'), { recursive: true });
    this.file = join(deps.dataDir, 'ota', 'job.json');
    this.slot = currentSlot(deps.slotsDir);
    const r = readStateFile<Partial<JobRecord>>(this.file, {});
    logStateFile(deps.log, this.file, r);
    this.rec = r.value.format === 1 ? (r.value as JobRecord) : undefined;
  }

  get step(): OtaStep | undefined {
    return this.rec?.step;
  }

  /** Set once the agent is about to exit into another slot: what its last presence says instead of a sleep. */
  get restarting(): { into: string; by: number } | undefined {
    return this.exiting;
  }

  /** Reconciles what a restart interrupted, then keeps trying on a timer. */
  start(): void {
    const boot = readBootState(this.d.slotsDir);
    const rec = this.rec;
    const trial = boot.trial;
    if (trial && trial.slot === this.slot && !trial.abandon) {
      void this.kick(() => this.healthCheck(trial.until, trial.campaign));
    } else if (
      rec &&
      boot.last &&
      boot.last.campaign === rec.job.campaign &&
      boot.last.version === rec.version &&
      OTA_STEP_CLASS[rec.step] !== 'failed'
    ) {
      this.move('rolled-back', { reason: boot.last.reason, detail: `rolled back to ${this.d.version} (${boot.last.reason})` });
    } else if (rec && (rec.step === 'restarting' || rec.step === 'health-check')) {
      // No trial open: either the new slot committed and was cut before saying so, or a cut came
      // before the switch and the old slot still runs (the bundle waits installed in the other one).
      if (this.slot !== rec.from.slot) this.move('committed', { detail: `running ${this.d.version}` });
      else this.move('installing');
    }
    this.timer = this.d.clock.setInterval(() => void this.kick(), this.d.retryMs);
    void this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.d.clock.clearInterval(this.timer);
    await this.running;
  }

  /** The `ota` command: refused at once if untrusted, else persisted and answered with its step. */
  accept(job: UpdateJob): { step: OtaStep; target: string } {
    const v = verifyManifest(job.release, this.d.trusted);
    const target = v.ok ? v.manifest.version : '0.0.0';
    const same = this.rec?.job.campaign === job.campaign;
    if (same && this.rec) return { step: this.rec.step, target: this.rec.version };
    if (this.rec && ['restarting', 'health-check'].includes(this.rec.step)) {
      return { step: this.rec.step, target: this.rec.version };
    }
    if (this.rec && OTA_STEP_CLASS[this.rec.step] !== 'done' && OTA_STEP_CLASS[this.rec.step] !== 'failed') {
      this.move('failed', { reason: 'superseded', detail: `superseded by campaign ${job.campaign}` });
    }
    this.rec = { format: 1, job, version: target, step: 'queued', from: { version: this.d.version, slot: this.slot } };
    if (!v.ok) this.move('failed', { reason: v.reason, detail: v.detail });
    else if (v.manifest.version === this.d.version) this.move('committed', { detail: `already running ${this.d.version}` });
    else this.move('queued');
    void this.kick();
    return { step: this.rec.step, target };
  }

  cancel(campaign: string): OtaStep | undefined {
    if (this.rec?.job.campaign !== campaign) return undefined;
    if (ACTIVE_ORDER.indexOf(this.rec.step) <= ACTIVE_ORDER.indexOf('verifying')) {
      discardDownload(this.downloadPath());
      this.move('cancelled');
    }
    return this.rec.step;
  }

  /** One pass at a time; a call while one runs is a no-op (the timer comes back). */
  private kick(run: () => Promise<void> = () => this.advance()): Promise<void> {
    if (this.running || this.stopped) return this.running ?? Promise.resolve();
    this.running = run()
      .catch((err: unknown) => this.d.log.error({ err }, 'update step failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async advance(): Promise<void> {
    for (;;) {
      const rec = this.rec;
      if (!rec || this.stopped || !ACTIVE_ORDER.slice(0, 5).includes(rec.step)) return;
      const v = verifyManifest(rec.job.release, this.d.trusted);
      if (!v.ok) return void this.move('failed', { reason: v.reason, detail: v.detail });
      const manifest = v.manifest;
      const go = mayProceed(rec.job, manifest, {
        ...this.d.conditions(),
        now: this.d.clock.now(),
        board: this.d.board,
        stateVersion: STATE_VERSION,
      });
      if (!go.go) {
        if (rec.step !== go.step || rec.reason !== go.reason) this.move(go.step, { reason: go.reason, detail: go.detail });
        return;
      }
      if (rec.step === 'queued' || rec.step === 'deferred') {
        const running = { version: this.d.version, sha256: slotBundleSha(this.d.slotsDir, this.slot) };
        const c = chooseArtifact(rec.job, manifest, running, rec.deltaFailed === true);
        if (c.kind === 'none') return void this.move('failed', { reason: 'no-artifact', detail: c.detail });
        if (c.kind === 'full') this.d.log.warn({ why: c.why }, 'no delta applies: full download');
        rec.artifact = { ...c.artifact, url: c.url, kind: c.kind };
        this.move('downloading', c.kind === 'full' ? { detail: `full download: ${c.why}`.slice(0, 200) } : {});
        continue;
      }
      const art = rec.artifact;
      if (!art) return void this.move('queued');
      if (rec.step === 'downloading') {
        this.d.cut?.('downloading');
        if (!(await this.download(art))) return;
        this.move('verifying');
        continue;
      }
      if (rec.step === 'verifying') {
        this.d.cut?.('verifying');
        const bundle = this.verify(art, manifest.bundle.sha256);
        if (!bundle) return;
        installIntoSlot(this.d.slotsDir, otherSlot(this.slot), bundle, rec.job.release);
        this.d.cut?.('installed');
        discardDownload(this.downloadPath());
        this.move('installing');
        continue;
      }
      if (rec.step === 'installing') return this.switchOver();
    }
  }

  private downloadPath(): string {
    return join(this.d.dataDir, 'ota', 'artifact');
  }

  /** True once the artifact is whole; false after a cut (retried on the timer). */
  private async download(art: NonNullable<JobRecord['artifact']>): Promise<boolean> {
    const started = this.d.clock.now();
    const first = downloadProgress(this.downloadPath(), art.size).done;
    try {
      await downloadOnce({
        url: art.url,
        path: this.downloadPath(),
        size: art.size,
        onProgress: (p) => this.progress(p, art.kind, started, first),
      });
      return true;
    } catch (err) {
      this.d.log.warn({ err }, 'download interrupted');
      if (err instanceof DownloadError && !err.retryable) this.move('failed', { reason: 'download', detail: err.message.slice(0, 200) });
      return false;
    }
  }

  private progress(p: DownloadProgress, kind: 'delta' | 'full', started: number, first: number): void {
    const now = this.d.clock.now();
    if (now - this.lastProgressAt < 5000 && p.done < p.total) return;
    this.lastProgressAt = now;
    if (this.rec) this.rec.download = { kind, ...p };
    const rate = (p.done - first) / Math.max(1, now - started);
    this.report('downloading', {
      download: { kind, ...p },
      ...(rate > 0 ? { etaS: Math.round((p.total - p.done) / rate / 1000) } : {}),
    });
  }

  /** The artifact's hash, then the bundle's after decompressing or patching; a bad delta falls back to the full download. */
  private verify(art: NonNullable<JobRecord['artifact']>, bundleSha: string): Buffer | undefined {
    const data = readPart(this.downloadPath());
    const fallBack = (detail: string) => {
      discardDownload(this.downloadPath());
      if (art.kind === 'delta' && this.rec) {
        this.rec.deltaFailed = true;
        this.move('queued', { reason: 'patch', detail });
        return undefined;
      }
      this.move('failed', { reason: 'hash', detail });
      return undefined;
    };
    if (data.length !== art.size || sha256(data) !== art.sha256) return fallBack(`${art.name}: size or SHA-256 differs from the manifest`);
    let bundle: Buffer;
    try {
      bundle = art.kind === 'delta' ? applyDelta(readSlotBundle(this.d.slotsDir, this.slot), data) : decompressFull(data);
    } catch (err) {
      return fallBack(`${art.name}: ${(err as Error).message}`.slice(0, 200));
    }
    if (sha256(bundle) !== bundleSha) return fallBack(`${art.name}: the bundle it makes differs from the manifest's`);
    return bundle;
  }

  /** Trial first, then the switch, then exit: boot-select counts the new slot's boots from here. */
  private switchOver(): void {
    const rec = this.rec as JobRecord;
    const to = otherSlot(this.slot);
    this.move('restarting');
    writeBootState(this.d.slotsDir, {
      format: 1,
      trial: {
        slot: to,
        previous: this.slot,
        boots: 0,
        maxBoots: this.d.maxBoots,
        until: this.d.clock.now() + this.d.healthDeadlineMs,
        campaign: rec.job.campaign,
        version: rec.version,
      },
    });
    this.d.cut?.('trial-written');
    switchTo(this.d.slotsDir, to);
    this.d.cut?.('switched');
    this.d.log.warn({ from: this.slot, to, version: rec.version }, 'switched slots: restarting into the new release');
    this.exitInto(rec.version);
  }

  private async healthCheck(until: number, campaign: string): Promise<void> {
    const seq = this.rec?.job.campaign === campaign ? this.move('health-check') : this.report('health-check', {});
    this.d.cut?.('health-check');
    const failed = await runHealthCheck(
      { ...this.d.health, published: () => this.d.health.delivered(seq), now: () => this.d.clock.now() },
      until,
      (ms) => new Promise((r) => this.d.clock.setTimeout(r, ms)),
    );
    if (this.stopped) return;
    const boot = readBootState(this.d.slotsDir);
    if (failed.length === 0) {
      writeBootState(this.d.slotsDir, { format: 1 });
      this.d.cut?.('boot-committed');
      if (this.rec?.job.campaign === campaign) this.move('committed', { detail: `running ${this.d.version}` });
      return;
    }
    this.d.log.error({ failed }, 'health check failed: rolling back');
    if (this.rec) this.rec.failedChecks = failed;
    if (boot.trial) writeBootState(this.d.slotsDir, { ...boot, trial: { ...boot.trial, abandon: 'health-check' } });
    this.save();
    // The launcher starts the previous slot: this job's `from`, when the trial is this job's.
    this.exitInto(this.rec?.job.campaign === campaign ? this.rec.from.version : undefined);
  }

  /** Back by the end of a health window: the new slot's start, or the launcher's rollback, takes far less. */
  private exitInto(version: string | undefined): void {
    if (version !== undefined) this.exiting = { into: version, by: this.d.clock.now() + this.d.healthDeadlineMs };
    this.d.exit();
  }

  private move(step: OtaStep, extra: { reason?: OtaReason; detail?: string } = {}): number {
    const rec = this.rec;
    if (!rec) return this.report(step, {});
    rec.step = step;
    if (extra.reason) rec.reason = extra.reason;
    else delete rec.reason;
    if (extra.detail) rec.detail = extra.detail;
    else delete rec.detail;
    this.save();
    this.d.log.info({ campaign: rec.job.campaign, step, reason: rec.reason, detail: rec.detail }, 'update step');
    return this.report(step, {});
  }

  private save(): void {
    if (this.rec) writeStateFile(this.file, this.rec);
  }

  private report(step: OtaStep, extra: Partial<OtaStatus>): number {
    const rec = this.rec;
    return this.d.report({
      ts: this.d.clock.now(),
      running: this.d.version,
      step,
      ...(rec ? { campaign: rec.job.campaign, ...(rec.version !== '0.0.0' ? { target: rec.version } : {}) } : {}),
      ...(rec?.reason ? { reason: rec.reason } : {}),
      ...(rec?.detail ? { detail: rec.detail } : {}),
      ...(rec?.failedChecks && step === 'rolled-back' ? { failedChecks: rec.failedChecks } : {}),
      ...(rec?.download ? { download: rec.download } : {}),
      ...extra,
    });
  }
}
