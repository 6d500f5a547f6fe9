/**
 * A rollout to 100 simulated units through a real broker and the fleet's campaigns, releases and
 * artifact links: each unit answers the `ota` job through the protocol, downloads its artifact
 * from the fleet with HTTP Range (half the units cut their first download at 40 % and resume),
 * reports each step and commits. The units are protocol clients in this process, not agent
 * processes: 100 agents (~70 MB each) do not fit this machine; the unit side's own figures (delta
 * sizes, time offline during the switch) come from the device's tests and benches.
 *
 * Rows: campaign start → every unit committed, staged (canary 5, waves 25/50/100 %, no soak) against
 * the same units given the job in one wave in the same run; bytes the fleet served per resumed
 * download against the artifact's size.
 *
 * Runnable alone: `node fleet/bench/ota-rollout.ts`.
 */

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeRequest,
  encodeResponse,
  encodeUplink,
  filters,
  type OtaStatus,
  parseTopic,
  type ReleaseManifest,
  topics,
} from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import { Value } from '@sinclair/typebox/value';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { type Fleet, startFleet } from '../src/fleet.ts';

const UNITS = 100;
const ADMIN = 'bench-admin-token';
const ARTIFACT = 190_000;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A unit that takes the job, fetches its artifact (cut once at 40 % when `cut`), and commits. */
async function unit(url: string, id: string, cut: boolean): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { clientId: id, clean: false, reconnectPeriod: 0 });
  let seq = 0;
  const report = (s: Omit<OtaStatus, 'seq' | 'ts' | 'running'>) =>
    c.publishAsync(topics.uplink(id, 'ota'), Buffer.from(encodeUplink('ota', { seq: ++seq, ts: Date.now(), running: '1.0.0', ...s })), {
      qos: 1,
      retain: true,
    });
  c.on('message', (topic, bytes) => {
    const p = parseTopic(topic);
    if (!p.ok || p.value.type !== 'request' || p.value.command !== 'ota') return;
    const req = decodeRequest('ota', bytes);
    if (!req.ok) return;
    const job = req.value.args;
    const data = { campaign: job.campaign, target: '1.0.1', step: 'queued' as const };
    void c
      .publishAsync(topics.response(id, 'ota'), Buffer.from(encodeResponse('ota', { id: req.value.id, status: 'ok', data })), { qos: 1 })
      .then(async () => {
        const at = job.artifacts[0]?.url as string;
        let got = 0;
        let transferred = 0;
        for (let attempt = 0; got < ARTIFACT; attempt++) {
          const ctl = new AbortController();
          const res = await fetch(at, { headers: { range: `bytes=${got}-` }, signal: ctl.signal });
          try {
            for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
              got += chunk.length;
              transferred += chunk.length;
              if (cut && attempt === 0 && got >= ARTIFACT * 0.4) {
                ctl.abort();
                break;
              }
            }
          } catch {
            // The cut: resume from what arrived.
          }
        }
        const dl = { kind: 'full' as const, done: got, total: ARTIFACT, transferred, resumes: cut ? 1 : 0 };
        await report({ campaign: job.campaign, target: '1.0.1', step: 'downloading', download: dl });
        await report({ campaign: job.campaign, target: '1.0.1', step: 'committed', download: dl });
      });
  });
  await c.subscribeAsync(filters.unitRequests(id), { qos: 1 });
  await c.publishAsync(topics.uplink(id, 'presence'), Buffer.from(encodeUplink('presence', { state: 'online', ts: Date.now() })), {
    qos: 1,
    retain: true,
  });
  return c;
}

async function rollout(fleet: Fleet, base: string, ids: string[], plan: Record<string, unknown>): Promise<number> {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { id: string };
  };
  const c = await post('/api/ota/campaigns', { name: 'bench', version: '1.0.1', target: { units: ids }, soakS: 0, ...plan });
  const t0 = performance.now();
  await post(`/api/ota/campaigns/${c.id}/start`, {});
  for (;;) {
    const v = await fleet.ota.campaigns.view(c.id);
    if (v.state === 'completed') return performance.now() - t0;
    if (v.state !== 'running') throw new Error(`campaign ${v.state}: ${v.pauseReason}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function bench(): Promise<BenchRow[]> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const dir = await mkdtemp(join(tmpdir(), 'bench-ota-'));
  const key = generateKeyPairSync('ed25519');
  const x = key.publicKey.export({ format: 'jwk' }).x as string;
  await writeFile(
    join(dir, 'keys.json'),
    JSON.stringify({ keys: [{ id: 'bench', publicKey: Buffer.from(x, 'base64url').toString('base64') }] }),
  );
  const raw = {
    dataDir: dir,
    http: { port: 0 },
    mqtt: { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` },
    auth: { bootstrapAdminToken: ADMIN },
    alarms: { instanceId: 'bench' },
    ota: { trustedKeysFile: join(dir, 'keys.json'), timerPollS: 0.05, recheckS: 0.05, answerS: 10 },
  };
  const fleet = await startFleet(Value.Default(FleetConfig, Value.Convert(FleetConfig, raw)) as FleetConfig, pino({ level: 'silent' }));
  const base = `http://127.0.0.1:${fleet.httpPort}`;
  const clients: MqttClient[] = [];
  try {
    const full = randomBytes(ARTIFACT);
    const manifest: ReleaseManifest = {
      format: 1,
      version: '1.0.1',
      createdAt: Date.now(),
      boards: ['pi4'],
      minBatteryPct: 20,
      bundle: { size: ARTIFACT * 3, sha256: sha(full) },
      full: { name: 'agent-1.0.1.zst', size: full.length, sha256: sha(full) },
      deltas: [],
      stateVersion: 1,
    };
    const body = JSON.stringify(manifest);
    const publish = {
      manifest: { body, keyId: 'bench', signature: sign(null, Buffer.from(body), key.privateKey).toString('base64') },
      artifacts: [{ name: manifest.full.name, data: full.toString('base64') }],
    };
    const res = await fetch(`${base}/api/ota/releases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(publish),
    });
    if (res.status !== 201) throw new Error(`publish: ${res.status} ${await res.text()}`);
    const url = raw.mqtt.url;
    const groups = ['staged', 'single'].map((g) => Array.from({ length: UNITS }, (_, i) => `bench-${g}-${String(i).padStart(3, '0')}`));
    for (const ids of groups)
      for (const [i, id] of ids.entries()) {
        await fetch(`${base}/api/registry/units`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ id, board: 'pi4' }),
        });
        clients.push(await unit(url, id, i % 2 === 1));
      }
    for (;;) {
      if (groups.flat().every((id) => fleet.state.get(id)?.liveness.status === 'online')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const [staged, single] = groups as [string[], string[]];
    // Alternate, so neither plan runs on a warmer process alone: single first, staged second.
    const oneWave = await rollout(fleet, base, single, { canary: UNITS, waves: [100] });
    const waves = await rollout(fleet, base, staged, { canary: 5, waves: [25, 50, 100] });
    const resumed = staged.filter((_, i) => i % 2 === 1).map((id) => fleet.ota.served.of(id));
    const whole = staged.filter((_, i) => i % 2 === 0).map((id) => fleet.ota.served.of(id));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return [
      {
        name: `campaign start → ${UNITS} units committed (canary 5, waves 25/50/100 %)`,
        value: waves,
        unit: 'ms',
        baseline: oneWave,
        target: 'baseline: one wave, all at once',
      },
      {
        name: 'bytes served per download, cut once at 40 % and resumed',
        value: mean(resumed),
        unit: 'B',
        baseline: ARTIFACT,
        target: '≤ 1.1×',
      },
      { name: 'bytes served per download, uncut', value: mean(whole), unit: 'B', baseline: ARTIFACT, target: '1.00×' },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
    await fleet.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) console.table(await bench());
