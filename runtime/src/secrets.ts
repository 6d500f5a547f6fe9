import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Credential hashing shared by whoever issues credentials (fleet registry, dev orchestrator)
 * and whoever checks them (gateway). Format: `scrypt$N$r$p$<salt b64>$<hash b64>`, so cost
 * parameters can rise later without invalidating stored hashes.
 */
const DEFAULT = { N: 16384, r: 8, p: 1 };

/**
 * Cost for secrets made by `newSecret()` (192 random bits): their strength is the entropy, not the
 * work factor, so a cheap scrypt keeps a gateway that restarts into 10,000 reconnecting units from
 * spending minutes hashing. Human-chosen passwords keep the default cost.
 */
export const MACHINE_SECRET_COST = { N: 1024, r: 8, p: 1 };
const KEY_LEN = 32;

function derive(secret: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashSecret(secret: string, cost: { N: number; r: number; p: number } = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Constant-time check; a malformed stored hash verifies as false rather than throwing. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (!Object.values(params).every((v) => Number.isInteger(v) && v > 0) || expected.length !== KEY_LEN) return false;
  const key = await derive(secret, Buffer.from(salt, 'base64'), params);
  return timingSafeEqual(key, expected);
}

/** A random secret for a new credential: 24 bytes, URL-safe. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}
