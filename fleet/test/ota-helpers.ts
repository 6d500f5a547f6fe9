/**
 * OTA test vocabulary: a *signer* is an Ed25519 key pair with its id, as a maintainer keeps it; a
 * *release* is a manifest it signs with random artifact bytes; a *protocol unit* is an MQTT.js
 * client with a persistent session that answers the `ota` command and publishes retained `ota`
 * reports as an agent does, its behaviour given by the test (no agent code runs).
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  decodeRequest,
  encodeResponse,
  encodeUplink,
  filters,
  type OtaStatus,
  type OtaStep,
  parseTopic,
  type ReleaseManifest,
  type ReleasePublish,
  topics,
  type UpdateJob,
} from '@shouwang/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { apiClient, startBroker, startTestFleet, tempDir } from './helpers.ts';

export interface Signer {
  id: string;
  privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'];
  publicKey: string;
}

export function signer(id: string): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  return { id, privateKey, publicKey: Buffer.from(x, 'base64url').toString('base64') };
}

/** A trusted-keys file in a temporary folder; `retired` names keys marked retired. */
export async function trustedKeysFile(t: TestContext, keys: Signer[], retired: string[] = []): Promise<string> {
  const file = join(await tempDir(t), 'trusted-keys.json');
  await writeFile(
    file,
    JSON.stringify({ keys: keys.map((k) => ({ id: k.id, publicKey: k.publicKey, ...(retired.includes(k.id) ? { retired: true } : {}) })) }),
  );
  return file;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A release of `version` with a full artifact and a delta from each of `from`, signed by `by`. */
export function release(
  by: Signer,
  version: string,
  from: string[] = [],
  fullBytes = 4096,
): { publish: ReleasePublish; manifest: ReleaseManifest; data: Map<string, Buffer> } {
  const full = randomBytes(fullBytes);
  const data = new Map<string, Buffer>([[`agent-${version}.zst`, full]]);
  const deltas = from.map((f) => {
    const d = randomBytes(512);
    const name = `agent-${f}-to-${version}.zstpatch`;
    data.set(name, d);
    return { from: f, fromSha256: sha(Buffer.from(f)), name, size: d.length, sha256: sha(d) };
  });
  const manifest: ReleaseManifest = {
    format: 1,
    version,
    createdAt: 1_700_000_000_000,
    boards: ['pi4'],
    minBatteryPct: 30,
    bundle: { size: fullBytes * 3, sha256: sha(Buffer.from(`bundle ${version}`)) },
    full: { name: `agent-${version}.zst`, size: full.length, sha256: sha(full) },
    deltas,
    stateVersion: 1,
  };
  const body = JSON.stringify(manifest);
  const signature = sign(null, Buffer.from(body), by.privateKey).toString('base64');
  return {
    manifest,
    data,
    publish: {
      manifest: { body, keyId: by.id, signature },
      artifacts: [...data].map(([name, b]) => ({ name, data: b.toString('base64') })),
    },
  };
}

/** What a protocol unit does with a job: the step it answers (null: it says nothing), then the reports it publishes in order. */
export type Behaviour = (job: UpdateJob) => { answer: OtaStep | null; reports: Partial<OtaStatus>[] };

/** A unit whose new version fails its GPS health check: it goes back to its old slot. */
export const rollsBack: Behaviour = () => ({
  answer: 'queued',
  reports: [{ step: 'health-check' }, { step: 'rolled-back', reason: 'health-check', failedChecks: ['gps'] }],
});

/**
 * A broker and a fleet trusting one signer's key, `admin` as its bootstrap token, jobs answered
 * within `answerS`, wave timers fired only when a test runs them; and `version` published.
 */
export async function startOtaFleet(t: TestContext, admin: string, version: string, answerS: number) {
  const broker = await startBroker(t);
  const key = signer('k1');
  const fleet = await startTestFleet(t, broker.url, {
    auth: { bootstrapAdminToken: admin },
    ota: { trustedKeysFile: await trustedKeysFile(t, [key]), answerS, timerPollS: 3600 },
  });
  const api = apiClient(fleet.base);
  const published = await api('POST', '/api/ota/releases', admin, release(key, version, ['0.0.1']).publish);
  if (published.status !== 201) throw new Error(`release ${version} not published: ${JSON.stringify(published.body)}`);
  return { broker, fleet, api };
}

export interface ProtocolUnit {
  id: string;
  client: MqttClient;
  jobs: UpdateJob[];
  /** Publishes a report of the latest job (retained, as the agent does). */
  report(r: Partial<OtaStatus>): Promise<void>;
  /** Goes to sleep until `until` (ms, the fleet's clock): says so and disconnects, keeping its session. */
  sleep(until: number): Promise<void>;
  wake(): Promise<void>;
}

/** A unit on a persistent session that answers `ota` jobs as `behave` says. */
export async function protocolUnit(
  t: TestContext,
  url: string,
  id: string,
  now: () => number,
  behave: Behaviour,
  running = '1.0.0',
): Promise<ProtocolUnit> {
  let seq = 0;
  const jobs: UpdateJob[] = [];
  let client!: MqttClient;
  const publishStatus = (r: Partial<OtaStatus>) => {
    const job = jobs.at(-1);
    const status: OtaStatus = {
      seq: ++seq,
      ts: now(),
      running,
      step: 'queued',
      ...(job ? { campaign: job.campaign, target: JSON.parse(job.release.body).version } : {}),
      ...r,
    };
    if (status.step === 'committed' && status.target) running = status.target;
    return client.publishAsync(topics.uplink(id, 'ota'), Buffer.from(encodeUplink('ota', status)), { qos: 1, retain: true });
  };
  const presence = (state: 'online' | 'offline', extra: { nextContactBy?: number } = {}) =>
    client.publishAsync(topics.uplink(id, 'presence'), Buffer.from(encodeUplink('presence', { state, ts: now(), ...extra })), {
      qos: 1,
      retain: true,
    });
  const connect = async () => {
    client = await mqtt.connectAsync(url, { clientId: id, clean: false, reconnectPeriod: 0 });
    client.on('message', (topic, bytes) => {
      const p = parseTopic(topic);
      if (p.ok && p.value.type === 'request' && p.value.command === 'ota-cancel') {
        const req = decodeRequest('ota-cancel', bytes);
        if (!req.ok) return;
        const data = { campaign: req.value.args.campaign, step: 'cancelled' as const };
        void client
          .publishAsync(
            topics.response(id, 'ota-cancel'),
            Buffer.from(encodeResponse('ota-cancel', { id: req.value.id, status: 'ok', data })),
            { qos: 1 },
          )
          .then(() => publishStatus({ step: 'cancelled' }));
        return;
      }
      if (!p.ok || p.value.type !== 'request' || p.value.command !== 'ota') return;
      const req = decodeRequest('ota', bytes);
      if (!req.ok) return;
      const job = req.value.args;
      const b = behave(job);
      if (b.answer === null) return;
      const known = jobs.find((j) => j.campaign === job.campaign);
      if (!known) jobs.push(job);
      const target = JSON.parse(job.release.body).version as string;
      void client
        .publishAsync(
          topics.response(id, 'ota'),
          Buffer.from(encodeResponse('ota', { id: req.value.id, status: 'ok', data: { campaign: job.campaign, target, step: b.answer } })),
          { qos: 1 },
        )
        .then(async () => {
          if (known) return;
          for (const r of b.reports) await publishStatus(r);
        });
    });
    await client.subscribeAsync(filters.unitRequests(id), { qos: 1 });
    await presence('online');
  };
  await connect();
  t.after(() => client.end(true));
  return {
    id,
    get client() {
      return client;
    },
    jobs,
    report: (r) => publishStatus(r).then(() => undefined),
    async sleep(until) {
      await presence('offline', { nextContactBy: until });
      await client.endAsync();
    },
    async wake() {
      await connect();
    },
  };
}
