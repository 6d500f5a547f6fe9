/**
 * An alarm raised while a clip uploads over 4G at 512 kbit/s reaches the fleet within 2 s, through
 * the real gateway and fleet processes. The unit here is the agent's outbox, bulk lane and uplink
 * in this process (the unit's own credentials, its agent process stopped), dialling the gateway
 * through the simulator's link shaper at 64 kB/s: the agent process's simulated link is the 2 MB/s
 * 4G profile, too fast to load.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkShaper } from '@shouwang/hardware';
import { ALARM_KINDS, type AlarmKind } from '@shouwang/protocol';
import { openLane } from '../../device/test/lane.ts';
import { stopChild } from '../system.ts';
import { startTestSystem } from './harness.ts';

interface AlarmView {
  unitId: string;
  kind: string;
  receivedAt: number;
}

test('an alarm raised during a clip upload over 4G at 512 kbit/s reaches the fleet within 2 s', { timeout: 120_000 }, async (t) => {
  const { sys, dataDir } = await startTestSystem(t, { units: 1 });
  const unit = sys.units[0];
  assert.ok(unit);
  unit.child.kill('SIGKILL');
  await stopChild(unit.child);
  const shaper = new LinkShaper({ host: '127.0.0.1', port: sys.mqttPort }, { bytesPerSecond: 64_000, latencyMs: 50 });
  const { port } = await shaper.listen();
  t.after(() => shaper.close());
  const { outbox, store, sender, uplink, close } = openLane(join(dataDir, 'lane'), `mqtt://127.0.0.1:${port}`, {
    unitId: unit.id,
    password: unit.password,
  });
  t.after(close);
  const clip = join(dataDir, 'lane', 'clip.ts');
  await writeFile(clip, randomBytes(1_500_000));
  assert.ok((await store.enqueueFile(clip, { recording: 'clip-alarm', kind: 'clip', pinned: true })).accepted);
  uplink.kick();
  const deadline = Date.now() + 30_000;
  while (sender.stats.acked < 3) {
    assert.ok(Date.now() < deadline, 'the upload did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  const latencies: number[] = [];
  for (const kind of ALARM_KINDS.slice(0, 5) as AlarmKind[]) {
    const t0 = Date.now();
    outbox.enqueue('alarm', { ts: t0, id: `${kind}:e2e`, kind, severity: 'major', state: 'raised' });
    uplink.kick();
    const a = await fleetAlarm(sys.httpPort, unit.id, kind, t0 + 10_000);
    latencies.push(a.receivedAt - t0);
    assert.ok(store.backlogBytes() > 0, 'the clip was still uploading');
  }
  t.diagnostic(`alarm → fleet during the upload: ${latencies.join(', ')} ms`);
  assert.ok(Math.max(...latencies) < 2000, `slowest ${Math.max(...latencies)} ms`);
});

async function fleetAlarm(httpPort: number, unitId: string, kind: string, until: number): Promise<AlarmView> {
  while (Date.now() < until) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/alarms?unit=${unitId}`);
    const found = ((await res.json()) as { alarms: AlarmView[] }).alarms.find((a) => a.kind === kind);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no ${kind} alarm at the fleet in time`);
}
