/**
 * A power cut (SIGKILL) at every point of an update — after each step is persisted, between the
 * writes of the switch, in the new release's health check and between the writes of its commit —
 * leaves a unit that boots a whole slot, finishes the update and reports it committed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OTA_CUT_POINTS } from '../../device/src/domain/ota-plan.ts';
import { currentSlot, readBootState } from '../../device/src/services/ota-slots.ts';
import { artifactServer, jobFor, makeReleases, supervisedUnit } from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { otaFleet } from './ota-harness-fleet.ts';

test('kill -9 at every step of the switch: the unit boots a good slot, completes and reports', async (t) => {
  const rel = await makeReleases(t);
  const server = await artifactServer(t, rel.root);
  const ids = OTA_CUT_POINTS.map((_, i) => `ota-3${String(i).padStart(2, '0')}`);
  const fleet = await otaFleet(t, ids);
  const want = readFileSync(join(rel.next.dir, 'agent.mjs'));
  for (const [i, at] of OTA_CUT_POINTS.entries()) {
    await t.test(`cut at ${at}`, async (t) => {
      const id = ids[i] as string;
      const unit = await supervisedUnit(t, {
        unitId: id,
        url: fleet.url,
        password: fleet.password,
        base: rel.base,
        trustedFile: rel.trustedFile,
        env: { SHOUWANG_DEVICE_OTA_SIM_POWER_CUT_AT: at },
      });
      await until('the unit online', () => fleet.online.has(id), 20_000);
      await fleet.send(id, jobFor(rel.next, server));
      await until(`committed after a cut at ${at}`, () => fleet.latest(id)?.step === 'committed', 60_000);
      assert.equal(fleet.latest(id)?.running, '0.2.0');
      assert.equal(currentSlot(unit.slotsDir), 'b');
      assert.ok(readFileSync(join(unit.slotsDir, 'b', 'agent.mjs')).equals(want));
      assert.equal(readBootState(unit.slotsDir).trial, undefined, 'no trial left open');
      assert.equal(readFileSync(join(unit.dataDir, 'ota', 'power-cut-done'), 'utf8'), at, 'the cut came');
      await unit.stop();
    });
  }
});
