/**
 * The OTA contract: a release manifest, the job the fleet sends, the unit's report and the publish
 * body pass as golden examples; each kind of bad input is refused with its code and field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COMMAND_MAX_BYTES,
  checkValue,
  decodeManifestBody,
  decodeRequest,
  decodeUplink,
  ErrorCode,
  encodeRequest,
  encodeUplink,
  MANIFEST_MAX_BYTES,
  OTA_STEP_CLASS,
  OTA_STEPS,
  type OtaStatus,
  type ReleaseManifest,
  ReleasePublish,
  TrustedKeys,
  type UpdateJob,
} from '@shouwang/protocol';

const SHA = 'a'.repeat(64);
export const MANIFEST: ReleaseManifest = {
  format: 1,
  version: '0.2.0',
  createdAt: 1_763_856_000_000,
  boards: ['pi4', 'zero2w'],
  minBatteryPct: 30,
  bundle: { size: 1_200_000, sha256: SHA },
  full: { name: 'agent-0.2.0.mjs.zst', size: 190_000, sha256: SHA },
  deltas: [{ from: '0.1.0', fromSha256: SHA, name: 'agent-0.1.0-0.2.0.patch.zst', size: 6_000, sha256: SHA }],
  stateVersion: 2,
};
const SIGNATURE = `${'A'.repeat(86)}==`;
export const JOB: UpdateJob = {
  campaign: 'c-2026-11',
  release: { body: JSON.stringify(MANIFEST), keyId: 'release-2026', signature: SIGNATURE },
  artifacts: [
    { name: 'agent-0.2.0.mjs.zst', url: 'http://127.0.0.1:8080/ota/artifacts/0.2.0/agent-0.2.0.mjs.zst?sig=x' },
    { name: 'agent-0.1.0-0.2.0.patch.zst', url: 'http://127.0.0.1:8080/ota/artifacts/0.2.0/agent-0.1.0-0.2.0.patch.zst?sig=x' },
  ],
  deadline: 1_764_460_800_000,
  policy: { allowSatellite: false, window: { start: '22:00', end: '05:00' }, minBatteryPct: 40 },
};

test('a manifest body decodes, and a bad one is refused with its code and field', () => {
  const ok = decodeManifestBody(JSON.stringify(MANIFEST));
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, MANIFEST);
  const notJson = decodeManifestBody('{"format":1');
  assert.ok(!notJson.ok);
  assert.equal(notJson.error.code, ErrorCode.Encoding);
  const badHash = decodeManifestBody(JSON.stringify({ ...MANIFEST, bundle: { size: 1, sha256: 'XYZ' } }));
  assert.ok(!badHash.ok);
  assert.equal(badHash.error.path, '/bundle/sha256');
  const extra = decodeManifestBody(JSON.stringify({ ...MANIFEST, unsigned: true }));
  assert.ok(!extra.ok);
  const huge = decodeManifestBody(JSON.stringify({ ...MANIFEST, notes: 'x'.repeat(5000) }));
  assert.ok(!huge.ok);
  assert.equal(huge.error.code, ErrorCode.TooLarge);
});

test('the ota job round-trips as a command request and fits the command size limit', () => {
  const bytes = encodeRequest('ota', { id: 'j1', args: JOB, expires: JOB.deadline });
  const back = decodeRequest('ota', bytes);
  assert.ok(back.ok);
  assert.deepEqual(back.value.args, JOB);
  // A large job: eight deltas, notes at their limit, three locations at theirs.
  const delta = { ...MANIFEST.deltas[0], from: '10.20.300-rc.1', name: 'agent-10.20.300-rc.1-to-10.21.0.patch.zst' } as const;
  const body = JSON.stringify({ ...MANIFEST, deltas: Array.from({ length: 8 }, () => delta), notes: 'n'.repeat(500) });
  assert.ok(body.length <= MANIFEST_MAX_BYTES, `${body.length} bytes of manifest`);
  assert.ok(decodeManifestBody(body).ok);
  const url = `http://fleet.example:8080/${'u'.repeat(512 - 26)}`;
  const largest: UpdateJob = { ...JOB, release: { ...JOB.release, body }, artifacts: [0, 1, 2].map((i) => ({ name: `a${i}`, url })) };
  const largestBytes = encodeRequest('ota', { id: 'j9', args: largest, expires: JOB.deadline });
  assert.ok(decodeRequest('ota', largestBytes).ok);
  assert.ok(largestBytes.length <= COMMAND_MAX_BYTES, `${largestBytes.length} bytes`);
  const badUrl = decodeRequest(
    'ota',
    encodeRequest('ota', { id: 'j2', args: { ...JOB, artifacts: [{ name: 'a', url: 'file:///etc/passwd' }] } }),
  );
  assert.ok(!badUrl.ok);
  assert.equal(badUrl.error.path, '/args/artifacts/0/url');
  const badWindow = decodeRequest(
    'ota',
    encodeRequest('ota', { id: 'j3', args: { ...JOB, policy: { allowSatellite: false, window: { start: '25:00', end: '05:00' } } } }),
  );
  assert.ok(!badWindow.ok);
  assert.equal(badWindow.error.path, '/args/policy/window/start');
});

test('the ota report round-trips in both encodings, a deferral and a rollback included', () => {
  const reports: OtaStatus[] = [
    { seq: 1, ts: 1_763_856_000_000, running: '0.1.0', campaign: 'c-1', target: '0.2.0', step: 'deferred', reason: 'battery', soc: 21.5 },
    {
      seq: 2,
      ts: 1_763_856_000_000,
      running: '0.1.0',
      campaign: 'c-1',
      target: '0.2.0',
      step: 'rolled-back',
      reason: 'health-check',
      failedChecks: ['mqtt', 'alarm'],
    },
  ];
  for (const r of reports) {
    for (const encoding of ['json', 'compact'] as const) {
      const back = decodeUplink('ota', encodeUplink('ota', r, encoding));
      assert.ok(back.ok, encoding);
      assert.deepEqual(back.value, r);
    }
  }
  const bad = decodeUplink('ota', encodeUplink('ota', { ...reports[0], step: 'bricked' } as unknown as OtaStatus));
  assert.ok(!bad.ok);
  assert.equal(bad.error.path, '/step');
});

test('every step has a class, and only waiting steps are neither failures nor final', () => {
  assert.deepEqual(Object.keys(OTA_STEP_CLASS).sort(), [...OTA_STEPS].sort());
  assert.equal(OTA_STEP_CLASS.deferred, 'waiting');
  assert.equal(OTA_STEP_CLASS['rolled-back'], 'failed');
});

test('the trusted keys file and the publish body have their shapes', () => {
  assert.ok(checkValue(TrustedKeys, { keys: [{ id: 'k1', publicKey: `${'A'.repeat(43)}=`, retired: true }] }).ok);
  assert.ok(!checkValue(TrustedKeys, { keys: [{ id: 'k1', publicKey: 'short' }] }).ok);
  assert.ok(checkValue(ReleasePublish, { manifest: JOB.release, artifacts: [{ name: 'agent-0.2.0.mjs.zst', data: 'AAAA' }] }).ok);
  assert.ok(!checkValue(ReleasePublish, { manifest: JOB.release, artifacts: [] }).ok);
});
