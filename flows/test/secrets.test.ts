/** What a flows data dir keeps across starts: one credential key, the admin hash, the webhook token's hash. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcryptjs';
import { bearerMatches, loadSecrets } from '../src/secrets.ts';

test('made once and shown once, kept as hashes; a given password or token replaces the kept one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'flows-secrets-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await loadSecrets(dir, {});
  assert.ok(first.generated.adminPassword && first.generated.inboundToken, 'both made and returned on the first start');
  assert.ok(bcrypt.compareSync(first.generated.adminPassword, first.secrets.adminHash));
  assert.ok(bearerMatches(`Bearer ${first.generated.inboundToken}`, first.secrets.inboundTokenSha256));
  const file = await readFile(join(dir, 'shouwang-secrets.json'), 'utf8');
  assert.ok(!file.includes(first.generated.adminPassword) && !file.includes(first.generated.inboundToken), 'only hashes on disk');
  assert.equal((await stat(join(dir, 'shouwang-secrets.json'))).mode & 0o777, 0o600);

  const second = await loadSecrets(dir, {});
  assert.deepEqual(second.generated, {}, 'nothing shown again');
  assert.deepEqual(second.secrets, first.secrets, 'the same key and hashes: the credentials file still decrypts');

  const given = await loadSecrets(dir, { adminPassword: 'given-password', inboundToken: 'swi_given' });
  assert.equal(given.secrets.credentialSecret, first.secrets.credentialSecret);
  assert.ok(bcrypt.compareSync('given-password', given.secrets.adminHash));
  assert.ok(bearerMatches('Bearer swi_given', given.secrets.inboundTokenSha256));
  assert.ok(!bearerMatches(`Bearer ${first.generated.inboundToken}`, given.secrets.inboundTokenSha256));
  for (const bad of [undefined, '', 'swi_given', 'Basic swi_given', 'Bearer ', 'Bearer swi_given extra'])
    assert.ok(!bearerMatches(bad, given.secrets.inboundTokenSha256), String(bad));
});
