import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { rangeBytes } from '@shouwang/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { FleetConfig } from '../config.ts';
import { heldAlarms } from '../storage/alarm-occurrences.ts';
import { IntervalRuns } from '../storage/interval-runs.ts';
import type { KindFilter, MediaRecord, MediaStore } from '../storage/media-store.ts';
import type { Database } from '../storage/schema.ts';
import { stagingPath } from './assembler.ts';
import type { BlobStore } from './blob-store.ts';

/** What one run removed and kept. */
export interface RetentionReport {
  /** Stored recordings deleted for age, and to get under the store's quota. */
  expired: number;
  overQuota: number;
  /** Partial uploads given up (row and staging file), and staging files with no upload behind them. */
  abandoned: number;
  orphans: number;
  /** Recordings past the policy kept as evidence of an open ticket or an uncleared alarm. */
  held: number;
  freedBytes: number;
  /** Stored bytes after the run (what the quota counts). */
  storedBytes: number;
}

export interface RetentionOptions {
  db: Kysely<Database>;
  store: MediaStore;
  blobs: BlobStore;
  stagingDir: string;
  policy: FleetConfig['media']['retention'];
  clock: { now(): number };
  instanceId: string;
  log: Logger;
}

const PAGE = 500;

/**
 * The media store's retention policy. Stored recordings older than `keepDays` go (live segments,
 * watched once, older than `liveKeepHours`), and, past `storeQuotaBytes`, the oldest go first until
 * the store is under it; partial uploads no chunk has
 * reached for `stagingMaxAgeH` are abandoned (row and staging file), and staging files with no
 * partial upload behind them (left by a crash, or by a chunk racing an abandonment) are deleted.
 * Never deleted, whatever their age or the quota: recordings filed under, or named by the evidence
 * manifest of, an alarm not cleared or one whose ticket is not closed.
 *
 * It runs once per `intervalS` across every fleet instance: each polls the `media_timers` row of
 * the current interval and the one that claims it (storage/sql-timers.ts) arms the next one in the
 * same transaction, then prunes. A file goes before its row: a crash between leaves a row whose
 * file is gone, removed again by the next run.
 */
export class MediaRetention {
  readonly #o: RetentionOptions;
  readonly #runs: IntervalRuns;

  constructor(o: RetentionOptions) {
    this.#o = o;
    this.#runs = new IntervalRuns({ table: 'media_timers', job: 'retention', intervalMs: o.policy.intervalS * 1000 });
  }

  /** Arms the current interval's run (kept if another instance armed it already). */
  async arm(): Promise<void> {
    await this.#runs.arm(this.#o.db, this.#o.clock.now());
  }

  /** Runs the policy if this instance claims a due run; null when none was due or another instance had it. */
  async runDue(): Promise<RetentionReport | null> {
    return (await this.#runs.claim(this.#o.db, this.#o.clock.now(), this.#o.instanceId)) ? this.run() : null;
  }

  /** The policy itself, now. */
  async run(): Promise<RetentionReport> {
    const o = this.#o;
    const now = o.clock.now();
    const p = o.policy;
    const report: RetentionReport = { expired: 0, overQuota: 0, abandoned: 0, orphans: 0, held: 0, freedBytes: 0, storedBytes: 0 };
    const isHeld = await this.#heldRecordings();
    const kept = new Set<string>();
    let stored = await o.store.storedBytes();
    /** Deletes, oldest first, the recordings of `kind` that `doomed` names, stepping over held ones, until it names none. */
    const walk = async (kind: KindFilter, doomed: (m: MediaRecord) => 'expired' | 'overQuota' | null) => {
      let skip = 0;
      for (;;) {
        const page = await o.store.oldestStored(PAGE, skip, kind);
        if (page.length === 0) return;
        for (const m of page) {
          const why = doomed(m);
          if (why === null) return;
          if (isHeld(m)) {
            kept.add(`${m.unitId}/${m.recording}`);
            skip++;
            continue;
          }
          if (m.location) await o.blobs.remove(m.location);
          if (!(await o.store.remove(m))) {
            skip++;
            continue;
          }
          stored -= m.size;
          report.freedBytes += m.size;
          report[why]++;
        }
      }
    };
    const olderThan = (ms: number) => (m: MediaRecord) => ((m.completedAt ?? m.createdAt) < now - ms ? 'expired' : null);
    // Live segments by their own age, the rest by theirs; then, while over the quota, whatever is oldest.
    await walk('live', olderThan(p.liveKeepHours * 3_600_000));
    await walk('recorded', olderThan(p.keepDays * 86_400_000));
    if (p.storeQuotaBytes > 0) await walk('any', () => (stored > p.storeQuotaBytes ? 'overQuota' : null));
    report.held = kept.size;
    report.storedBytes = stored;
    for (const m of await o.store.idlePartials(now - p.stagingMaxAgeH * 3_600_000)) {
      // Kept as `abandoned` (no bytes) for `keepDays`: a unit that resumes it later is told to start again (assembler.ts).
      if (isHeld(m) || !(await o.store.abandon(m, now))) continue;
      await unlinkQuietly(stagingPath(o.stagingDir, m.unitId, m.recording));
      report.abandoned++;
      report.freedBytes += rangeBytes(m.have);
    }
    for (const m of await o.store.abandonedBefore(now - p.keepDays * 86_400_000)) await o.store.remove(m);
    report.orphans = await this.#orphans();
    const busy = report.expired + report.overQuota + report.abandoned + report.orphans > 0;
    if (busy) o.log.info({ ...report, store: o.blobs.name }, 'media retention');
    if (p.storeQuotaBytes > 0 && stored > p.storeQuotaBytes)
      o.log.warn(
        { storedBytes: stored, quota: p.storeQuotaBytes, held: report.held },
        'media store over its quota with evidence that must be kept',
      );
    return report;
  }

  /** Whether a recording is evidence that must be kept: filed under a held alarm, or named by its manifest. */
  async #heldRecordings(): Promise<(m: MediaRecord) => boolean> {
    const held = await heldAlarms(this.#o.db);
    const named = new Set<string>();
    for (const e of await this.#o.store.evidenceOf([...held.keys()])) {
      if (!held.get(e.unitId)?.has(e.alarmId)) continue;
      for (const entry of e.entries ?? []) if (entry.recording) named.add(`${e.unitId}/${entry.recording}`);
    }
    return (m) => (m.alarmId !== null && held.get(m.unitId)?.has(m.alarmId) === true) || named.has(`${m.unitId}/${m.recording}`);
  }

  /** Staging files with no partial upload behind them; listed before the rows are read, as the intake makes the row first. */
  async #orphans(): Promise<number> {
    const dir = this.#o.stagingDir;
    const files: { unitId: string; recording: string }[] = [];
    for (const unitId of await readdir(dir).catch(() => [])) {
      for (const name of await readdir(join(dir, unitId)).catch(() => []))
        if (name.endsWith('.part')) files.push({ unitId, recording: name.slice(0, -'.part'.length) });
    }
    let n = 0;
    for (const f of files) {
      if ((await this.#o.store.get(f.unitId, f.recording))?.state === 'partial') continue;
      await unlinkQuietly(stagingPath(dir, f.unitId, f.recording));
      n++;
    }
    return n;
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
