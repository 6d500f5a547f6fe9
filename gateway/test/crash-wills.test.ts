/**
 * kill -9 of a gateway node with Wills pending: the node that comes back (or the other cluster
 * node) publishes the dead node's Wills on its own, with no client to check them against. Each
 * must be authorised against the owner stamped on it at CONNECT: the units' own Wills are
 * published on their own presence, and a Will on another unit's topic — registered by a node of
 * an older version, or stamped with another owner — goes nowhere and is not retained.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import { defer, freePort, startRedis } from '@shouwang/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { connect, metricsText, nextMessage, startGateway, startGatewayProcess, waitFor, writeCredentials } from './helpers.ts';

const UNITS = ['will-1', 'will-2', 'will-3'];
const VICTIM = 'victim-1';
const creds = {
  units: { ...Object.fromEntries(UNITS.map((u) => [u, 'pw'])), [VICTIM]: 'pw', 'thief-1': 'pw' },
  services: { fleet: 'svc' },
};
const forged = Buffer.from(encodeUplink('presence', { state: 'online', ts: 1_763_856_000_000, agent: 'forged' }));

interface Node {
  port: number;
  httpPort: number;
  child: ChildProcess;
}

async function startNode(t: TestContext, dir: string, env: NodeJS.ProcessEnv): Promise<Node> {
  const port = await freePort();
  const httpPort = await freePort();
  const child = await startGatewayProcess(dir, port, httpPort, { SHOUWANG_GATEWAY_BROKER_HEARTBEAT_INTERVAL_MS: '200', ...env });
  defer(t, () => child.kill('SIGKILL'));
  return { port, httpPort, child };
}

/** A unit with its real Will (offline, retained, on its own presence); it does not reconnect. */
function unitWithWill(port: number, id: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      clientId: id,
      username: id,
      password: 'pw',
      reconnectPeriod: 0,
      will: {
        topic: topics.uplink(id, 'presence'),
        payload: Buffer.from(encodeUplink('presence', { state: 'offline', ts: 1_763_856_000_000 })),
        qos: 1,
        retain: true,
      },
    });
    c.on('error', () => undefined); // its gateway is killed under it
    c.once('connect', () => resolve(c));
    c.once('close', () => reject(new Error(`${id} could not connect`)));
  });
}

/**
 * Forged Wills on the victim's presence, left in the store by a node that is now gone: one with
 * no owner stamp (as a gateway before this check stored it) and one stamped with its real owner,
 * another unit. Planted through an in-process node on the same store, which then closes; its
 * default heartbeat (a minute) keeps it from sweeping anything itself meanwhile.
 */
async function plantForgedWills(t: TestContext, dataDir: string, broker: Record<string, unknown>): Promise<void> {
  const planter = await startGateway(t, creds, { config: { dataDir, broker } });
  const p = (planter.gateway.broker as unknown as { persistence: { putWill(c: { id: string }, w: object): Promise<void> } }).persistence;
  const will = { cmd: 'publish', topic: topics.uplink(VICTIM, 'presence'), payload: forged, qos: 1, retain: true };
  await p.putWill({ id: 'old-firmware' }, will);
  await p.putWill({ id: 'thief-1' }, { ...will, shouwangOwner: 'unit:thief-1' });
  await planter.gateway.close();
}

/** Watches every presence on `port` from now on; `seen` lists "topic state agent". */
async function watchPresence(t: TestContext, port: number): Promise<{ fleet: MqttClient; seen: string[] }> {
  const fleet = await connect(t, `mqtt://127.0.0.1:${port}`, 'fleet', 'svc', { clientId: `fleet-${port}` });
  const seen: string[] = [];
  fleet.on('message', (tp, payload) => {
    const p = JSON.parse(payload.toString()) as { state: string; agent?: string };
    seen.push(`${tp} ${p.state} ${p.agent ?? ''}`);
  });
  await fleet.subscribeAsync(filters.allUplink('presence'), { qos: 1 });
  return { fleet, seen };
}

async function untilSeen(seen: string[], wanted: string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (wanted.every((w) => seen.some((s) => s.startsWith(w)))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(
    `not seen within ${timeoutMs} ms: ${wanted.filter((w) => !seen.some((s) => s.startsWith(w))).join(', ')}; seen: ${seen.join('; ')}`,
  );
}

async function rejectsCount(httpPort: number, reason: string): Promise<number> {
  const text = await metricsText({ httpPort });
  const m = text.match(new RegExp(`rejects_total\\{reason="${reason}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

/** Gives the sweep its time to refuse both forged Wills; if it never does, the assertions after say what was published instead. */
async function sweptBoth(httpPort: number): Promise<void> {
  await waitFor(async () => (await rejectsCount(httpPort, 'will-acl')) >= 2, 10_000).catch(() => undefined);
}

async function assertNothingForTheVictim(t: TestContext, port: number, seen: string[]): Promise<void> {
  assert.deepEqual(
    seen.filter((s) => s.startsWith(topics.uplink(VICTIM, 'presence'))),
    [],
    "a Will was published on the victim's presence",
  );
  // And none was retained there: a new subscriber gets nothing.
  const late = await connect(t, `mqtt://127.0.0.1:${port}`, 'fleet', 'svc', { clientId: `late-${port}` });
  const retained = nextMessage(late, (tp) => tp === topics.uplink(VICTIM, 'presence'), 500);
  await late.subscribeAsync(topics.uplink(VICTIM, 'presence'), { qos: 1 });
  await assert.rejects(retained, /no message/);
}

test("kill -9 with Wills pending, then a restart: every Will is published in its owner's subtree and no other", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-crash-wills-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await writeCredentials(join(dir, 'credentials.json'), creds);
  const first = await startNode(t, dir, {});
  // A thief with valid credentials cannot even register a Will on the victim's topic now.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${first.port}`, {
        clientId: 'thief-1',
        username: 'thief-1',
        password: 'pw',
        reconnectPeriod: 0,
        will: { topic: topics.uplink(VICTIM, 'presence'), payload: forged, qos: 1, retain: true },
      });
      c.once('connect', () => resolve(c.end(true)));
      c.once('error', (err) => {
        c.end(true);
        reject(err);
      });
    }),
    /Not authorized/,
  );
  const units = await Promise.all(UNITS.map((u) => unitWithWill(first.port, u)));
  first.child.kill('SIGKILL');
  await once(first.child, 'exit');
  for (const u of units) u.end(true);
  // Planted now, not before the first node started: it would have swept them itself while alive.
  await plantForgedWills(t, dir, {});

  const again = await startNode(t, dir, {});
  const { seen } = await watchPresence(t, again.port);
  await untilSeen(
    seen,
    UNITS.map((u) => `${topics.uplink(u, 'presence')} offline`),
    10_000,
  );
  await sweptBoth(again.httpPort);
  await assertNothingForTheVictim(t, again.port, seen);
  assert.equal(await rejectsCount(again.httpPort, 'will-acl'), 2, 'both forged Wills refused');
});

test("two nodes on Redis, one killed -9 with Wills pending: the other publishes them, each only in its owner's subtree", async (t) => {
  const redis = await startRedis((fn) => defer(t, fn));
  const dir = await mkdtemp(join(tmpdir(), 'gw-crash-wills-redis-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await writeCredentials(join(dir, 'credentials.json'), creds);
  const cluster = { SHOUWANG_GATEWAY_BROKER_STATE: 'redis', SHOUWANG_GATEWAY_BROKER_REDIS_URL: redis.url };
  const a = await startNode(t, dir, cluster);
  const b = await startNode(t, dir, cluster);
  const { seen } = await watchPresence(t, b.port);
  const units = await Promise.all(UNITS.map((u) => unitWithWill(a.port, u)));
  a.child.kill('SIGKILL');
  await once(a.child, 'exit');
  for (const u of units) u.end(true);
  // Planted now, not before A started: A would have swept them itself (and counted them) while alive.
  await plantForgedWills(t, dir, { state: 'redis', redisUrl: redis.url });

  // B hears no heartbeat from A for three intervals, and its next sweep publishes A's Wills.
  await untilSeen(
    seen,
    UNITS.map((u) => `${topics.uplink(u, 'presence')} offline`),
    15_000,
  );
  await sweptBoth(b.httpPort);
  await assertNothingForTheVictim(t, b.port, seen);
  assert.equal(await rejectsCount(b.httpPort, 'will-acl'), 2, 'both forged Wills refused');
});
