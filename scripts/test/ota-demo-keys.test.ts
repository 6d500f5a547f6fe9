/**
 * `./dev start` gives the fleet a demo release key: made once per data dir (kept across runs),
 * private half readable by its owner only, and a release signed with it is published.
 */
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { release } from '../../fleet/test/ota-helpers.ts';
import { type RunningSystem, startSystem } from '../system.ts';

const ADMIN = 'demo-keys-admin-token';

test('the demo system trusts its own release key: a release signed with it is published, and the key is kept across runs', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-e2e-'));
  const runs: RunningSystem[] = [];
  t.after(async () => {
    for (const run of runs) await run.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const start = async () => {
    const run = await startSystem({ units: 0, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir, adminToken: ADMIN });
    runs.push(run);
    return run;
  };
  const sys = await start();
  const keys = sys.releaseKeys;
  assert.ok(keys.privateKey.startsWith(dataDir), 'inside the data dir, never the repository');
  assert.equal(statSync(keys.privateKey).mode & 0o777, 0o600);
  const pem = readFileSync(keys.privateKey, 'utf8');
  const signed = release({ id: keys.keyId, privateKey: createPrivateKey(pem), publicKey: '' }, '0.2.0');
  const r = await fetch(`http://127.0.0.1:${sys.httpPort}/api/ota/releases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(signed.publish),
  });
  assert.equal(r.status, 201, await r.text());

  await sys.stop();
  const again = await start();
  assert.equal(readFileSync(again.releaseKeys.privateKey, 'utf8'), pem, 'the same key on the next run');
});
