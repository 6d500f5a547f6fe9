import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { verifySecret } from '@shouwang/runtime/secrets';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The credentials file is the contract between whoever issues credentials (the fleet registry,
 * or the dev orchestrator) and the gateway:
 *
 *   { "units": { "<unitId>": "<hash>" }, "services": { "<name>": { "hash": "<hash>", "role": "service" } } }
 *
 * Hashes come from `hashSecret` (@shouwang/runtime). Writers replace the file atomically
 * (temp + rename), so the store watches the directory and reloads on every change, emitting
 * `revoked` with the names whose credential disappeared or changed: their sessions must end now.
 */
const CredentialsFile = Type.Object({
  units: Type.Record(Type.String(), Type.String(), { default: {} }),
  services: Type.Record(Type.String(), Type.Object({ hash: Type.String(), role: Type.Literal('service') }), { default: {} }),
});
const checkFile = TypeCompiler.Compile(CredentialsFile);

interface Entry {
  hash: string;
  service: boolean;
}

export interface CredentialEvents {
  revoked: [names: string[]];
  reloaded: [count: number];
  error: [err: Error];
}

export class CredentialStore extends EventEmitter<CredentialEvents> {
  readonly #file: string;
  #entries = new Map<string, Entry>();
  /** sha256 of the last secret that verified against the current hash: reconnect storms skip scrypt. */
  readonly #verified = new Map<string, Buffer>();
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  constructor(file: string) {
    super();
    this.#file = file;
  }

  get size(): number {
    return this.#entries.size;
  }

  async open(): Promise<void> {
    await this.reload();
    this.#watcher = watch(dirname(this.#file), (_event, name) => {
      if (name !== null && name !== basename(this.#file)) return;
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => {
        this.reload().catch((err: unknown) => this.emit('error', err as Error));
      }, 20);
    });
    this.#watcher.on('error', (err) => this.emit('error', err));
  }

  close(): void {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }

  /** Re-reads the file. A missing or invalid file leaves nobody able to log in, loudly, and never throws. */
  async reload(): Promise<void> {
    let next = new Map<string, Entry>();
    try {
      const raw = JSON.parse(await readFile(this.#file, 'utf8')) as unknown;
      if (!checkFile.Check(raw)) {
        const e = checkFile.Errors(raw).First();
        throw new Error(`${this.#file}: ${e?.path ?? '/'} ${e?.message ?? 'invalid'}`);
      }
      for (const [name, hash] of Object.entries(raw.units ?? {})) next.set(name, { hash, service: false });
      for (const [name, s] of Object.entries(raw.services ?? {})) next.set(name, { hash: s.hash, service: true });
    } catch (err) {
      next = new Map();
      this.emit('error', err as Error);
    }
    const revoked = [...this.#entries].filter(([name, e]) => next.get(name)?.hash !== e.hash).map(([name]) => name);
    this.#entries = next;
    for (const name of revoked) this.#verified.delete(name);
    this.emit('reloaded', next.size);
    if (revoked.length > 0) this.emit('revoked', revoked);
  }

  /** `undefined` when the name is unknown or the secret wrong; whether it is a service otherwise. */
  async verify(name: string, secret: string): Promise<{ service: boolean } | undefined> {
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
    const digest = createHash('sha256').update(secret).digest();
    const cached = this.#verified.get(name);
    if (cached && timingSafeEqual(cached, digest)) return { service: entry.service };
    if (!(await verifySecret(secret, entry.hash))) return undefined;
    // The file may have changed while scrypt ran; only cache against the hash that verified.
    if (this.#entries.get(name)?.hash !== entry.hash) return undefined;
    this.#verified.set(name, digest);
    return { service: entry.service };
  }

  /**
   * Whether `secret` is the one last verified for `name`, without scrypt: a source the login
   * limiter no longer spends scrypt on can still let in units it has already seen.
   */
  verifyCached(name: string, secret: string): { service: boolean } | undefined {
    const entry = this.#entries.get(name);
    const cached = this.#verified.get(name);
    if (!entry || !cached) return undefined;
    return timingSafeEqual(cached, createHash('sha256').update(secret).digest()) ? { service: entry.service } : undefined;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }
}
