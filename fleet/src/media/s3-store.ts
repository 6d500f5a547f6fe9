import type { Readable } from 'node:stream';
import { Client } from 'minio';
import type { BlobStore } from './blob-store.ts';

export interface S3Options {
  /** `http(s)://host:port` of the S3-compatible service. */
  endpoint: string;
  region: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** Path-style addressing (`host/bucket/key`), which self-hosted S3 servers expect. */
  pathStyle: boolean;
}

/**
 * The media store for many units: an S3-compatible object store through MinIO's client. `put`
 * uploads the verified file (multipart above the client's part size) with its SHA-256 as object
 * metadata and resolves when the service has acknowledged it; the staged file is then the
 * intake's to delete.
 */
export class S3BlobStore implements BlobStore {
  readonly name = 's3';
  readonly #client: Client;
  readonly #bucket: string;

  private constructor(client: Client, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  /** Connects and makes sure the bucket exists. */
  static async open(o: S3Options): Promise<S3BlobStore> {
    const url = new URL(o.endpoint);
    const useSSL = url.protocol === 'https:';
    const client = new Client({
      endPoint: url.hostname,
      port: Number(url.port || (useSSL ? 443 : 80)),
      useSSL,
      accessKey: o.accessKey,
      secretKey: o.secretKey,
      region: o.region,
      pathStyle: o.pathStyle,
    });
    if (!(await client.bucketExists(o.bucket))) await client.makeBucket(o.bucket, o.region);
    return new S3BlobStore(client, o.bucket);
  }

  async put(key: string, file: string, meta: { size: number; sha256: string; type: string | null }): Promise<void> {
    await this.#client.fPutObject(this.#bucket, key, file, {
      'Content-Type': meta.type ?? 'application/octet-stream',
      'x-amz-meta-sha256': meta.sha256,
    });
  }

  open(key: string): Promise<Readable> {
    return this.#client.getObject(this.#bucket, key);
  }

  async remove(key: string): Promise<void> {
    await this.#client.removeObject(this.#bucket, key);
  }

  async close(): Promise<void> {}
}
