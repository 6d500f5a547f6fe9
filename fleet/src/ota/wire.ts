import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type CommandResponse,
  decodeMessage,
  kindOfAcceptedTopic,
  type OtaStatus,
  type OtaStep,
  type ReleaseManifest,
  type UpdateJob,
} from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { CommandClient } from '../services/commands.ts';
import type { CampaignService, DeliveryAnswer, JobOrder, JobPort, UnitReport } from './campaigns.ts';
import type { Releases } from './releases.ts';

/**
 * Signed, expiring download links: `…/api/ota/artifacts/<version>/<name>?unit=&exp=&sig=`, the
 * signature an HMAC-SHA256 over the path, the unit and the expiry under the fleet's secret. A unit
 * needs no second credential to download, and a link copied elsewhere dies with its campaign.
 */
export class ArtifactLinks {
  readonly #base: () => string;
  readonly #secret: Buffer;

  /** `base`: the fleet's address as units reach it, read when a link is made (the port is known once listening). */
  constructor(base: () => string, secret: Buffer) {
    this.#base = base;
    this.#secret = secret;
  }

  #mac(version: string, name: string, unit: string, exp: number): string {
    return createHmac('sha256', this.#secret).update(`${version}/${name}\n${unit}\n${exp}`).digest('base64url');
  }

  url(version: string, name: string, unit: string, exp: number): string {
    const q = new URLSearchParams({ unit, exp: String(exp), sig: this.#mac(version, name, unit, exp) });
    return `${this.#base().replace(/\/$/, '')}/api/ota/artifacts/${encodeURIComponent(version)}/${encodeURIComponent(name)}?${q}`;
  }

  /** Null when the link is good at `now`, else why not. */
  check(version: string, name: string, q: { unit?: string; exp?: string; sig?: string }, now: number): string | null {
    if (!q.unit || !q.exp || !q.sig) return 'the link lacks its unit, expiry or signature';
    const exp = Number(q.exp);
    if (!Number.isSafeInteger(exp)) return 'the link has a bad expiry';
    const want = Buffer.from(this.#mac(version, name, q.unit, exp));
    const got = Buffer.from(q.sig);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'the link signature does not match';
    if (exp < now) return 'the link has expired';
    return null;
  }
}

/** The unit's step, as the campaign counts it. */
export function stateOfStep(step: OtaStep, reason?: string): UnitReport['state'] {
  switch (step) {
    case 'queued':
      return 'delivered';
    case 'committed':
      return 'updated';
    case 'failed':
      // The unit gave the job up at its deadline: it never finished, which is not a broken release.
      return reason === 'deadline' ? 'expired' : 'failed';
    case 'deferred':
    case 'downloading':
    case 'verifying':
    case 'installing':
    case 'restarting':
    case 'health-check':
    case 'rolled-back':
    case 'cancelled':
      return step;
  }
}

/** A report as the campaign folds it in. */
export function reportOf(s: OtaStatus & { campaign: string }): UnitReport {
  const reason = s.reason === 'battery' && s.soc !== undefined ? `battery ${s.soc} %` : s.reason;
  const detail = [reason, s.failedChecks?.length ? `checks failed: ${s.failedChecks.join(', ')}` : undefined, s.detail]
    .filter(Boolean)
    .join(' · ');
  return {
    campaignId: s.campaign,
    seq: s.seq,
    state: stateOfStep(s.step, s.reason),
    bytes: s.download?.done,
    totalBytes: s.download?.total,
    transferred: s.download?.transferred,
    etaS: s.etaS,
    download: s.download?.kind,
    fromVersion: s.running,
    reason: s.reason,
    failedChecks: s.failedChecks,
    soc: s.soc,
    detail: detail || undefined,
  };
}

/** Delta artifacts a job offers: the one from the version the unit was last heard running, else the newest two. */
export function artifactsFor(m: ReleaseManifest, running: string | undefined): string[] {
  const match = m.deltas.find((d) => d.from === running);
  const deltas = match ? [match] : running === undefined ? m.deltas.slice(0, 2) : [];
  return [m.full.name, ...deltas.map((d) => d.name)];
}

/**
 * Jobs over the `ota` command (QoS 1: the gateway holds it in a sleeping unit's session, the
 * request expiring at the job's deadline) and reports from the retained `ota` uplink. The running
 * version each unit last reported is kept to choose the delta a job offers.
 */
export class OtaWire implements JobPort {
  readonly #commands: CommandClient;
  readonly #releases: Releases;
  readonly #links: ArtifactLinks;
  readonly #answerMs: number;
  readonly #now: () => number;
  readonly running = new Map<string, string>();

  constructor(o: { commands: CommandClient; releases: Releases; links: ArtifactLinks; answerMs: number; now: () => number }) {
    this.#commands = o.commands;
    this.#releases = o.releases;
    this.#links = o.links;
    this.#answerMs = o.answerMs;
    this.#now = o.now;
  }

  async deliver(order: JobOrder): Promise<DeliveryAnswer> {
    const release = await this.#releases.signed(order.version);
    const manifest = JSON.parse(release.body) as ReleaseManifest;
    const job: UpdateJob = {
      campaign: order.campaignId,
      release,
      artifacts: artifactsFor(manifest, this.running.get(order.unitId)).map((name) => ({
        name,
        url: this.#links.url(order.version, name, order.unitId, order.deadlineAt),
      })),
      deadline: order.deadlineAt,
      policy: order.policy,
    };
    const r: CommandResponse<'ota'> = await this.#commands.send(order.unitId, 'ota', job, {
      timeoutMs: this.#answerMs,
      expiresInMs: Math.max(1, order.deadlineAt - this.#now()),
      background: true,
    });
    if (r.status === 'error') return { state: 'failed', detail: `${r.error.code}: ${r.error.message}` };
    return { state: stateOfStep(r.data.step) };
  }

  async cancel(unitId: string, campaignId: string): Promise<DeliveryAnswer> {
    const r = await this.#commands.send(unitId, 'ota-cancel', { campaign: campaignId }, { timeoutMs: this.#answerMs, background: true });
    if (r.status === 'error') return { state: 'failed', detail: `${r.error.code}: ${r.error.message}` };
    return { state: stateOfStep(r.data.step) };
  }

  /** Listens on the fleet's session for `ota` reports (it subscribes to every uplink kind already). */
  listen(client: MqttClient, campaigns: CampaignService, log: Logger): () => void {
    // One unit's reports are taken in the order they came: taken concurrently, a later one could
    // commit first and the earlier, now older by sequence, would be dropped with its progress.
    const queues = new Map<string, Promise<void>>();
    const onMessage = (topic: string, payload: Buffer) => {
      if (kindOfAcceptedTopic(topic) !== 'ota') return;
      const m = decodeMessage(topic, payload);
      if (!m.ok || m.value.type !== 'uplink' || m.value.kind !== 'ota') return; // counted by the ingest
      const { unitId, payload: s } = m.value;
      this.running.set(unitId, s.running);
      if (s.campaign === undefined) return;
      const report = reportOf({ ...s, campaign: s.campaign });
      const next = (queues.get(unitId) ?? Promise.resolve())
        .then(() => campaigns.report(unitId, report))
        .then(
          () => undefined,
          (err: unknown) => log.error({ err, unitId }, 'ota report not stored'),
        );
      queues.set(unitId, next);
      void next.then(() => {
        if (queues.get(unitId) === next) queues.delete(unitId);
      });
    };
    client.on('message', onMessage);
    return () => client.off('message', onMessage);
  }
}
