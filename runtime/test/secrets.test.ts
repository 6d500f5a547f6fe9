import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSecret, newSecret, verifySecret } from '@shouwang/runtime/secrets';

test('a hashed secret verifies, a wrong one does not, a malformed hash is just false', async () => {
  const s = newSecret();
  const h = await hashSecret(s, { N: 1024, r: 8, p: 1 });
  assert.match(h, /^scrypt\$1024\$8\$1\$/);
  assert.equal(await verifySecret(s, h), true);
  assert.equal(await verifySecret(`${s}x`, h), false);
  for (const bad of ['', 'plain', 'scrypt$x$8$1$AAAA$BBBB', 'scrypt$1024$8$1$AAAA$short']) assert.equal(await verifySecret(s, bad), false);
});

test('two hashes of one secret differ (salted)', async () => {
  const cost = { N: 1024, r: 8, p: 1 };
  assert.notEqual(await hashSecret('same', cost), await hashSecret('same', cost));
});
