import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Where verified media files live. The intake assembles a file in its staging folder, checks it
 * against its SHA-256, then hands it here under a key (`<unitId>/<recording>`); the store owns it
 * from then on. `put` resolves once the file is durable in the store.
 */
export interface BlobStore {
  readonly name: 'file' | 's3';
  put(key: string, file: string, meta: { size: number; sha256: string; type: string | null }): Promise<void>;
  open(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
  close(): Promise<void>;
}

/** The default: a folder on the fleet's disk. `put` moves the staged file in (copying across filesystems). */
export class FileBlobStore implements BlobStore {
  readonly name = 'file';
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  path(key: string): string {
    return join(this.#root, ...key.split('/'));
  }

  async put(key: string, file: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(file, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(file, target);
      await syncFile(target);
      await unlink(file);
    }
    // The new directory entry is durable only once its directory is synced.
    await syncFile(dirname(target));
  }

  async open(key: string): Promise<Readable> {
    const stream = createReadStream(this.path(key));
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async remove(key: string): Promise<void> {
    await unlink(this.path(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async close(): Promise<void> {}
}

export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
