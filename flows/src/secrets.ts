import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';

/**
 * What a flows data dir keeps so a restart is the same Node-RED: the key its credentials file is
 * encrypted with, the editor's admin password (bcrypt, as Node-RED's adminAuth takes it) and the
 * inbound webhook's bearer token (SHA-256). A password or token made here is returned once, for
 * the caller to print; after that only the hashes exist.
 */
export interface FlowsSecrets {
  credentialSecret: string;
  adminHash: string;
  inboundTokenSha256: string;
}

export interface Generated {
  adminPassword?: string;
  inboundToken?: string;
}

const FILE = 'shouwang-secrets.json';

export async function loadSecrets(
  userDir: string,
  given: { adminPassword?: string | undefined; inboundToken?: string | undefined },
): Promise<{ secrets: FlowsSecrets; generated: Generated }> {
  const file = join(userDir, FILE);
  let kept: Partial<FlowsSecrets> = {};
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as Partial<FlowsSecrets>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${file} is unreadable: ${(err as Error).message}`);
  }
  const generated: Generated = {};
  let adminHash = kept.adminHash;
  if (given.adminPassword) adminHash = bcrypt.hashSync(given.adminPassword, 10);
  else if (!adminHash) {
    generated.adminPassword = randomBytes(12).toString('base64url');
    adminHash = bcrypt.hashSync(generated.adminPassword, 10);
  }
  let inbound = kept.inboundTokenSha256;
  if (given.inboundToken) inbound = sha256(given.inboundToken);
  else if (!inbound) {
    generated.inboundToken = `swi_${randomBytes(24).toString('base64url')}`;
    inbound = sha256(generated.inboundToken);
  }
  const secrets: FlowsSecrets = {
    credentialSecret: kept.credentialSecret ?? randomBytes(32).toString('hex'),
    adminHash,
    inboundTokenSha256: inbound,
  };
  const tmp = `${file}.tmp`;
  await writeFile(tmp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  await rename(tmp, file);
  return { secrets, generated };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** `Authorization: Bearer <token>` against the kept hash, in constant time. */
export function bearerMatches(header: string | undefined, tokenSha256: string): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m?.[1]) return false;
  return timingSafeEqual(Buffer.from(sha256(m[1]), 'hex'), Buffer.from(tokenSha256, 'hex'));
}
