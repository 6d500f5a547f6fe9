/**
 * Over-the-air updates on simulated units run as systemd runs them (boot-select, A/B slots,
 * Restart=always), through the real gateway, with artifacts over HTTP from a loopback server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import { jobFor } from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { otaScene } from './ota-harness-fleet.ts';

test('a patch release goes on by delta, passes its health check in the new slot and is committed', async (t) => {
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-001');
  const job = jobFor(rel.next, server);
  await fleet.send('ota-001', job);
  await until('the update committed', () => fleet.latest('ota-001')?.step === 'committed', 90_000).catch((err) => {
    console.error(fleet.reports);
    throw err;
  });
  const done = fleet.latest('ota-001');
  assert.equal(done?.running, '0.2.0');
  assert.equal(done?.download?.kind, 'delta');
  const delta = rel.next.manifest.deltas[0];
  assert.equal(done?.download?.total, delta?.size);
  assert.equal(currentSlot(unit.slotsDir), 'b');
  assert.ok(
    readFileSync(join(unit.slotsDir, 'b', 'agent.mjs')).equals(readFileSync(join(rel.next.dir, 'agent.mjs'))),
    'slot b is byte-identical to the release',
  );
  assert.ok(server.sent() <= (delta?.size ?? 0), `${server.sent()} bytes sent for a ${delta?.size} B delta`);
  assert.deepEqual(unit.starts, ['a', 'b']);
});

test('a unit on a version no delta starts from gets the full bundle, counted; cut three times it resumes', async (t) => {
  const { rel, server, fleet } = await otaScene(t, 'ota-002');
  const full = await rel.release('0.4.0');
  const size = full.manifest.full.size;
  server.cutNext(3, Math.floor(size / 5));
  await fleet.send('ota-002', jobFor(full, server));
  await until('the update committed', () => fleet.latest('ota-002')?.step === 'committed', 90_000);
  const s = fleet.latest('ota-002');
  assert.equal(s?.running, '0.4.0');
  assert.equal(s?.download?.kind, 'full', 'the full download is reported as such');
  assert.ok(
    fleet.reports.some((r) => r.status.detail?.startsWith('full download: no delta from 0.1.0')),
    'with its reason',
  );
  assert.ok((s?.download?.resumes ?? 0) >= 3, `${s?.download?.resumes} resumes`);
  assert.ok(server.sent() <= 1.1 * size, `${server.sent()} bytes sent for ${size} needed`);
  assert.ok((s?.download?.transferred ?? 0) <= 1.1 * size);
});

test('a unit below the release battery floor defers, downloads nothing, and says why', async (t) => {
  const { rel, server, fleet } = await otaScene(t, 'ota-003');
  const heavy = await rel.release('0.5.0', { from: [rel.base], minBatteryPct: 99.5 });
  await fleet.send('ota-003', jobFor(heavy, server));
  await until('the deferral reported', () => fleet.latest('ota-003')?.step === 'deferred', 30_000);
  const s = fleet.latest('ota-003');
  assert.equal(s?.reason, 'battery');
  assert.match(s?.detail ?? '', /below 99.5 %/);
  assert.equal(server.sent(), 0);
});

test('a job sent while the unit sleeps waits in its session and runs when it wakes', async (t) => {
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-004');
  await unit.sleep();
  await until('the gateway says the unit is offline', () => !fleet.online.has('ota-004'), 20_000);
  await fleet.send('ota-004', jobFor(rel.next, server));
  unit.wake();
  await until('the update committed after waking', () => fleet.latest('ota-004')?.step === 'committed', 60_000);
  assert.equal(fleet.latest('ota-004')?.running, '0.2.0');
  assert.deepEqual(unit.starts, ['a', 'a', 'b']);
});
