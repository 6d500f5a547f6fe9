/**
 * The releases registry: a release is accepted only signed by a trusted, unretired key with every
 * artifact matching its manifest; refusals are coded and name the part; only a maintainer
 * publishes; artifacts are served behind signed, expiring links with HTTP Range.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, startBroker, startTestFleet } from './helpers.ts';
import { release, signer, trustedKeysFile } from './ota-helpers.ts';

const ADMIN = 'ota-admin-token';

async function fleetWithKeys(t: Parameters<typeof startBroker>[0]) {
  const current = signer('k2026');
  const old = signer('k2025');
  const stranger = signer('k2026');
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, {
    auth: { bootstrapAdminToken: ADMIN },
    ota: { trustedKeysFile: await trustedKeysFile(t, [current, old], ['k2025']), timerPollS: 3600 },
  });
  const api = apiClient(fleet.base);
  const token = async (role: string) => ((await api('POST', '/api/tokens', ADMIN, { role, name: role })).body as { token: string }).token;
  return { fleet, api, current, old, stranger, maintainer: await token('maintainer'), commander: await token('commander') };
}

test('a release signed by a trusted key is published; tampered, wrongly signed and retired-key releases are refused with their code', async (t) => {
  const { api, current, old, stranger, maintainer, commander } = await fleetWithKeys(t);
  const good = release(current, '1.1.0', ['1.0.0']);

  const tampered = structuredClone(good.publish);
  const bytes = Buffer.from(tampered.artifacts[0]?.data ?? '', 'base64');
  bytes[10] = (bytes[10] ?? 0) ^ 0xff;
  (tampered.artifacts[0] as { data: string }).data = bytes.toString('base64');
  const refused = await api('POST', '/api/ota/releases', maintainer, tampered);
  assert.equal(refused.status, 422);
  assert.deepEqual((refused.body.error as { code: string; path: string }).code, 'ARTIFACT_MISMATCH');
  assert.equal((refused.body.error as { path: string }).path, '/artifacts/0');

  const forged = await api('POST', '/api/ota/releases', maintainer, release(stranger, '1.1.0').publish);
  assert.equal((forged.body.error as { code: string }).code, 'SIGNATURE_INVALID', 'same key id, another key');
  const edited = structuredClone(good.publish);
  edited.manifest.body = edited.manifest.body.replace('"minBatteryPct":30', '"minBatteryPct":5');
  assert.equal(((await api('POST', '/api/ota/releases', maintainer, edited)).body.error as { code: string }).code, 'SIGNATURE_INVALID');
  const retired = await api('POST', '/api/ota/releases', maintainer, release(old, '1.1.0').publish);
  assert.equal((retired.body.error as { code: string }).code, 'KEY_RETIRED');
  const unknown = await api('POST', '/api/ota/releases', maintainer, release(signer('k1999'), '1.1.0').publish);
  assert.equal((unknown.body.error as { code: string }).code, 'KEY_UNKNOWN');
  const missing = structuredClone(good.publish);
  missing.artifacts.pop();
  assert.equal(((await api('POST', '/api/ota/releases', maintainer, missing)).body.error as { code: string }).code, 'ARTIFACT_MISSING');
  assert.deepEqual((await api('GET', '/api/ota/releases', maintainer)).body.releases, [], 'nothing refused was kept');

  assert.equal((await api('POST', '/api/ota/releases', commander, good.publish)).status, 403, 'a commander does not publish');
  const ok = await api('POST', '/api/ota/releases', maintainer, good.publish);
  assert.equal(ok.status, 201);
  assert.deepEqual(
    (ok.body.artifacts as { name: string; from: string | null }[]).map((a) => [a.name, a.from]),
    [
      ['agent-1.1.0.zst', null],
      ['agent-1.0.0-to-1.1.0.zstpatch', '1.0.0'],
    ],
  );
  assert.equal((await api('POST', '/api/ota/releases', maintainer, good.publish)).status, 409, 'a version is published once');
  const shown = await api('GET', '/api/ota/releases/1.1.0', commander);
  assert.equal((shown.body.manifest as { version: string }).version, '1.1.0');
  const paths = (await api('GET', '/api/openapi.json', null)).body.paths as Record<string, Record<string, { 'x-action'?: string }>>;
  assert.equal(paths['/api/ota/releases']?.post?.['x-action'], 'manage-updates');
  assert.equal(paths['/api/ota/campaigns/{id}/pause']?.post?.['x-action'], 'manage-updates');
  assert.equal(paths['/api/ota/campaigns/{id}']?.get?.['x-action'], 'read');
});

test('artifacts are served behind signed, expiring links, and a Range request resumes where a download stopped', async (t) => {
  const { fleet, api, current, maintainer } = await fleetWithKeys(t);
  const r = release(current, '1.2.0', [], 100_000);
  assert.equal((await api('POST', '/api/ota/releases', maintainer, r.publish)).status, 201);
  const name = 'agent-1.2.0.zst';
  const whole = r.data.get(name) as Buffer;
  const url = fleet.ota.links.url('1.2.0', name, 'hrb-001', Date.now() + 60_000);

  const first = await fetch(url, { headers: { range: 'bytes=0-39999' } });
  assert.equal(first.status, 206);
  assert.equal(first.headers.get('content-range'), `bytes 0-39999/${whole.length}`);
  const a = Buffer.from(await first.arrayBuffer());
  const rest = await fetch(url, { headers: { range: `bytes=${a.length}-` } });
  assert.equal(rest.status, 206);
  const b = Buffer.from(await rest.arrayBuffer());
  assert.ok(Buffer.concat([a, b]).equals(whole), 'the two ranges make the artifact, byte for byte');
  assert.equal(fleet.ota.served.of('hrb-001'), whole.length, 'served once over, nothing more');
  assert.equal((await fetch(url, { headers: { range: `bytes=${whole.length}-` } })).status, 416);

  const other = new URL(url);
  other.searchParams.set('unit', 'hrb-002');
  assert.equal((await fetch(other)).status, 403, 'a link is for its unit');
  const expired = fleet.ota.links.url('1.2.0', name, 'hrb-001', Date.now() - 1);
  const refused = await fetch(expired);
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'LINK_REFUSED');
  assert.equal((await fetch(url.replace(name, 'agent-9.9.9.zst'))).status, 403, 'the signature covers the artifact');
});
