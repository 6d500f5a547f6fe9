import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';

/**
 * The fleet's side of the credentials file contract with the gateway (gateway/src/credentials.ts):
 *
 *   { "units": { "<unitId>": "<hash>" }, "services": { "<name>": { "hash": "<hash>", "role": "service" } } }
 *
 * The fleet owns the entries of the units in its registry: it sets them on claim and rotation and
 * deletes them on revocation. Entries it does not know (services, units provisioned by other
 * means) are kept as they are. Writes are atomic and serialized; the gateway reloads on rename
 * and ends the sessions of units whose entry disappeared or changed.
 */
export interface CredentialsFile {
  units: Record<string, string>;
  services: Record<string, unknown>;
}

export class CredentialsWriter {
  readonly #file: string;
  #queue: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  /** Applies `units` (a hash to set, or null to delete) and writes the file once. */
  update(units: Record<string, string | null>): Promise<void> {
    const next = this.#queue.then(async () => {
      const current = await this.read();
      for (const [id, hash] of Object.entries(units)) {
        if (hash === null) delete current.units[id];
        else current.units[id] = hash;
      }
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFileAtomic(this.#file, `${JSON.stringify(current, null, 2)}\n`);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async read(): Promise<CredentialsFile> {
    let raw: Partial<CredentialsFile>;
    try {
      raw = JSON.parse(await readFile(this.#file, 'utf8')) as Partial<CredentialsFile>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { units: {}, services: {} };
      throw err; // a corrupt file is not silently replaced: it holds the services' credentials too
    }
    return { units: { ...raw.units }, services: { ...raw.services } };
  }
}
