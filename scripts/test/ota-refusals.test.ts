/**
 * What a unit refuses before anything is installed: a bundle changed after signing, a manifest
 * whose signature does not hold, one signed by a key the unit's trusted-keys file retired, and one
 * that declares a state change the running agent could not roll back to.
 * Each is reported `failed` with its reason, and the idle slot stays empty.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { OtaReason } from '@shouwang/protocol';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import { generateSigningKey, signManifest } from '../../device/src/services/ota-trust.ts';
import { STATE_VERSION } from '../../device/src/services/state-migrations.ts';
import { jobFor } from '../../device/test/ota-harness.ts';
import { until } from '../../device/test/wait.ts';
import { otaScene } from './ota-harness-fleet.ts';

test('a tampered bundle, a wrong signature, a retired key and a breaking state change are refused before install, and reported', async (t) => {
  // Key rotation: `old-1` signed releases once and is retired now; `release-1` is current.
  const old = generateSigningKey();
  const { rel, server, fleet, unit } = await otaScene(t, 'ota-101', {
    beforeStart: (r) =>
      writeFileSync(r.trustedFile, JSON.stringify({ keys: [...r.trusted.keys, { id: 'old-1', publicKey: old.publicKey, retired: true }] })),
  });

  const refused = async (campaign: string, job: ReturnType<typeof jobFor>, reason: OtaReason) => {
    await fleet.send('ota-101', { ...job, campaign });
    await until(
      `${campaign} refused`,
      () => {
        const s = fleet.latest('ota-101');
        return s?.campaign === campaign && s.step === 'failed';
      },
      30_000,
    );
    assert.equal(fleet.latest('ota-101')?.reason, reason, campaign);
    assert.equal(existsSync(join(unit.slotsDir, 'b', 'agent.mjs')), false, `${campaign}: nothing installed`);
    assert.equal(currentSlot(unit.slotsDir), 'a');
  };

  // Tampered: both artifacts of 0.2.0 changed on the server after signing (one byte each).
  const tampered = await rel.release('0.3.0', { from: [rel.base] });
  for (const a of [tampered.manifest.full, ...tampered.manifest.deltas]) {
    const path = join(tampered.dir, a.name);
    const bytes = readFileSync(path);
    const at = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(path, bytes);
  }
  await refused('tampered', jobFor(tampered, server), 'hash');

  // Wrongly signed: the body of one manifest with the signature of another.
  const other = signManifest({ ...rel.next.manifest, notes: 'another body' }, rel.keyId, rel.keyPem);
  await refused('wrong-sig', { ...jobFor(rel.next, server), release: { ...rel.next.signed, signature: other.signature } }, 'signature');

  // Signed by the retired key: a valid signature, refused all the same.
  const byOld = signManifest(rel.next.manifest, 'old-1', old.privatePem);
  await refused('retired', { ...jobFor(rel.next, server), release: byOld }, 'key-retired');

  // A breaking state change: after a rollback this agent could not read the state the release writes.
  const breaking = signManifest(
    { ...rel.next.manifest, stateVersion: STATE_VERSION + 1, stateReadableFrom: STATE_VERSION + 1 },
    rel.keyId,
    rel.keyPem,
  );
  await refused('breaking-state', { ...jobFor(rel.next, server), release: breaking }, 'state');
  assert.deepEqual(unit.starts, ['a'], 'the unit never restarted');
});
