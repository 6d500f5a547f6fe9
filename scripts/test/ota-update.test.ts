/**
 * Over-the-air updates on simulated units run as systemd runs them (boot-select, A/B slots,
 * Restart=always), through the real gateway, with artifacts over HTTP from a loopback server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import { artifactServer, jobFor, makeReleases, supervisedUnit } from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { otaFleet } from './ota-harness-fleet.ts';

test('a patch release goes on by delta, passes its health check in the new slot and is committed', async (t) => {
  const rel = await makeReleases(t);
  const server = await artifactServer(t, rel.root);
  const fleet = await otaFleet(t, ['ota-001']);
  const unit = await supervisedUnit(t, {
    unitId: 'ota-001',
    url: fleet.url,
    password: fleet.password,
    base: rel.base,
    trustedFile: rel.trustedFile,
  });
  await until('the unit online', () => fleet.online.has('ota-001'), 20_000);
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
