/**
 * End to end with the real fleet: a unit holding its own valid credentials tries to blind the
 * fleet with a malformed last will (QoS 3 on its own presence, retained, valid payload — a
 * CONNECT bare Aedes accepts, and whose stored Will closes every wildcard subscriber it reaches). The
 * fleet must keep hearing every other unit, including the Will of one that dies.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeUplink, topics } from '@shouwang/protocol';
import { connectPacket, rawSocket, reply } from '../../gateway/test/raw.ts';
import { type RunningSystem, startSystem } from '../system.ts';
import { units as fleetUnits, sim, until as waitForFleet } from './fleet-view.ts';

interface UnitView {
  id: string;
  online: boolean;
  location: { lat: number; lon: number } | null;
}

const units = (sys: RunningSystem) => fleetUnits<UnitView>(sys);
const until = (sys: RunningSystem, what: string, ok: (u: UnitView[]) => boolean, timeoutMs: number) =>
  waitForFleet<UnitView>(sys, what, ok, timeoutMs);

test("a unit's malformed will does not blind the fleet: it keeps receiving every other unit's messages", {
  timeout: 120_000,
}, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-hostile-'));
  const logs: string[] = [];
  const sys = await startSystem({
    units: 3,
    mqttPort: 0,
    httpPort: 0,
    gatewayHttpPort: 0,
    dataDir,
    timeScale: 30,
    onLog: (source, line) => logs.push(`${source} ${line}`),
  });
  t.after(async () => {
    await sys.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  try {
    const [a, b, hostile] = sys.units;
    assert.ok(a && b && hostile);
    await until(sys, 'all three units online', (us) => us.length === 3 && us.every((u) => u.online), 60_000);

    // The stolen unit: its agent is gone, its credentials are in the thief's hands.
    hostile.child.kill('SIGKILL');
    await until(sys, `${hostile.id} offline`, (us) => us.find((u) => u.id === hostile.id)?.online === false, 45_000);
    const presence = topics.uplink(hostile.id, 'presence');
    const payload = Buffer.from(encodeUplink('presence', { state: 'online', ts: Date.now() }));
    for (let i = 0; i < 3; i++) {
      const s = await rawSocket(sys.mqttPort);
      s.write(connectPacket(hostile.id, hostile.id, hostile.password, { will: { topic: presence, payload, qos: 3, retain: true } }));
      assert.equal(await reply(s), 'closed', 'the malformed CONNECT is closed without a CONNACK');
      s.destroy();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${sys.gatewayHttpPort}/metrics`)).text();
    assert.match(metrics, /rejects_total\{reason="connect-will-qos"\} 3/);

    // Every other unit's reports keep arriving at the fleet after the attempt: both are towed
    // 2 km north and the fleet follows.
    for (const x of [a, b])
      assert.deepEqual(await sim(dataDir, x.id, 'move', `lat=${x.site.lat + 0.018}`, `lon=${x.site.lon}`), { ok: true });
    await until(
      sys,
      'both other units seen moved',
      (us) => [a, b].every((x) => (us.find((u) => u.id === x.id)?.location?.lat ?? 0) > x.site.lat + 0.015),
      30_000,
    );
    // And a unit that dies is still announced through its Will, on the same wildcard subscription.
    b.child.kill('SIGKILL');
    await until(sys, `${b.id} offline through its will`, (us) => us.find((u) => u.id === b.id)?.online === false, 45_000);
    assert.equal((await units(sys)).find((u) => u.id === a.id)?.online, true);
  } catch (err) {
    console.log(logs.slice(-80).join('\n'));
    throw err;
  }
});
