/**
 * Releases that do not work roll back by themselves: one that crashes on start uses up its boots
 * (boot-select's counter; Restart=always alone would restart it forever), one that starts but
 * cannot publish fails its health check. Either way the unit ends on the previous slot, running
 * the previous release, and says so.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import { jobFor } from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { otaScene } from './ota-harness-fleet.ts';

test('a release that crashes on start is rolled back after its boots and reported', async (t) => {
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-201', { env: { SHOUWANG_DEVICE_OTA_MAX_BOOTS: '3' } });
  const good = readFileSync(join(rel.next.dir, 'agent.mjs'));
  const crashing = await rel.release('0.3.0', {
    bundle: Buffer.concat([Buffer.from("throw new Error('0.3.0 fails at start');\n"), good]),
    from: [rel.base],
  });
  await fleet.send('ota-201', jobFor(crashing, server));
  await until('the rollback reported', () => fleet.latest('ota-201')?.step === 'rolled-back', 60_000);
  const s = fleet.latest('ota-201');
  assert.equal(s?.reason, 'crash-loop');
  assert.equal(s?.running, '0.1.0');
  assert.equal(s?.target, '0.3.0');
  assert.equal(currentSlot(unit.slotsDir), 'a');
  assert.deepEqual(unit.starts, ['a', 'b', 'b', 'b', 'a']);
});

test('a release that starts but cannot publish fails its health check, is rolled back and reported', async (t) => {
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-202', { env: { SHOUWANG_DEVICE_OTA_HEALTH_DEADLINE_S: '10' } });
  // A defect in the release: its topics are outside the namespace the gateway accepts.
  const good = readFileSync(join(rel.next.dir, 'agent.mjs'), 'latin1');
  assert.ok(good.includes('"sw/v1"'));
  const mute = await rel.release('0.3.0', { bundle: Buffer.from(good.replaceAll('"sw/v1"', '"sw/v9"'), 'latin1'), from: [rel.base] });
  await fleet.send('ota-202', jobFor(mute, server));
  await until('the rollback reported', () => fleet.latest('ota-202')?.step === 'rolled-back', 60_000);
  const s = fleet.latest('ota-202');
  assert.equal(s?.reason, 'health-check');
  assert.deepEqual(s?.failedChecks, ['mqtt']);
  assert.equal(s?.running, '0.1.0');
  assert.equal(currentSlot(unit.slotsDir), 'a');
  assert.deepEqual(unit.starts, ['a', 'b', 'a']);
});

test('a release whose health check fails says, as it exits, that it restarts into the previous release', async (t) => {
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-203', { env: { SHOUWANG_DEVICE_OTA_HEALTH_DEADLINE_S: '10' } });
  // A defect in the release: its GPS check never sees the fix the receiver has.
  const good = readFileSync(join(rel.next.dir, 'agent.mjs'), 'latin1');
  const probe = 'fix:()=>{let f=gps.current();return f!==void 0&&f.fix!=="none"}';
  assert.ok(good.includes(probe), 'the health check reads the fix as the bundle has it');
  const blind = await rel.release('0.3.0', { bundle: Buffer.from(good.replace(probe, 'fix:()=>!1'), 'latin1'), from: [rel.base] });
  await fleet.send('ota-203', jobFor(blind, server));
  await until('the rollback reported', () => fleet.latest('ota-203')?.step === 'rolled-back', 60_000);
  assert.deepEqual(fleet.latest('ota-203')?.failedChecks, ['gps']);
  const said = fleet.presences.filter((p) => p.unitId === 'ota-203' && p.presence.restarting).map((p) => p.presence);
  // The switch into 0.3.0, then the release on trial going back to 0.1.0 after its failed check.
  assert.deepEqual(
    said.map((p) => p.restarting?.into),
    ['0.3.0', '0.1.0'],
  );
  for (const p of said) assert.equal(p.nextContactBy, p.restarting?.by, 'the promise is the restart’s');
  assert.deepEqual(unit.starts, ['a', 'b', 'a']);
});
