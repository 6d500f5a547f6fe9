import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkValue, decodeManifestBody, type OtaReason, type ReleaseManifest, type SignedManifest, TrustedKeys } from '@shouwang/protocol';

/**
 * Ed25519 release signatures with node:crypto. A key is a raw 32-byte public key in base64 (the
 * TrustedKeys file); Node wants SPKI, so the fixed 12-byte DER prefix of RFC 8410 is put in front.
 */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function publicKeyObject(raw: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw, 'base64')]), format: 'der', type: 'spki' });
}

export function rawPublicKey(key: KeyObject): string {
  return (key.export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_PREFIX.length).toString('base64');
}

/** A new signing key: the private half as PKCS#8 PEM (kept off the repo), the public half raw. */
export function generateSigningKey(): { privatePem: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, publicKey: rawPublicKey(publicKey) };
}

export function signManifest(manifest: ReleaseManifest, keyId: string, privatePem: string): SignedManifest {
  const body = JSON.stringify(manifest);
  const signature = sign(null, Buffer.from(body, 'utf8'), createPrivateKey(privatePem)).toString('base64');
  return { body, keyId, signature };
}

export type TrustVerdict = { ok: true; manifest: ReleaseManifest } | { ok: false; reason: OtaReason; detail: string };

/**
 * Checks a signed manifest against the trusted keys, in the order that keeps unsigned bytes away
 * from the parser: the key must be known and current, the signature must hold over `body`, and only
 * then is the body parsed and validated.
 */
export function verifyManifest(signed: SignedManifest, trusted: TrustedKeys): TrustVerdict {
  const key = trusted.keys.find((k) => k.id === signed.keyId);
  if (!key) return { ok: false, reason: 'key-unknown', detail: `signed by unknown key ${signed.keyId}` };
  if (key.retired) return { ok: false, reason: 'key-retired', detail: `signed by retired key ${signed.keyId}` };
  let good: boolean;
  try {
    good = verify(null, Buffer.from(signed.body, 'utf8'), publicKeyObject(key.publicKey), Buffer.from(signed.signature, 'base64'));
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'signature', detail: `signature does not verify with key ${signed.keyId}` };
  const m = decodeManifestBody(signed.body);
  if (!m.ok) return { ok: false, reason: 'manifest', detail: `${m.error.message} at ${m.error.path ?? '/'}`.slice(0, 200) };
  return { ok: true, manifest: m.value };
}

/** Reads the trusted-keys file; a missing or malformed file trusts nothing (every release is refused). */
export function readTrustedKeys(path: string | undefined): { keys: TrustedKeys; problem?: string } {
  if (path === undefined) return { keys: { keys: [] }, problem: 'no trusted-keys file configured' };
  try {
    const r = checkValue(TrustedKeys, JSON.parse(readFileSync(path, 'utf8')));
    return r.ok ? { keys: r.value } : { keys: { keys: [] }, problem: `${path}: ${r.error.message} at ${r.error.path}` };
  } catch (err) {
    return { keys: { keys: [] }, problem: `${path}: ${(err as Error).message}` };
  }
}
