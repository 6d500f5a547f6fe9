import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { readStateFile, writeStateFile } from './state-file.ts';

/**
 * One artifact fetched over HTTP(S) with Range requests into `<path>.part`, resumable across cut
 * connections, agent restarts and power cuts. Every `syncEvery` bytes the part file is fsynced
 * and its length recorded in `<path>.part.json`; a resume first cuts the part file back to that
 * length, so a power cut can cost at most one sync interval, never a torn tail that would fail the
 * hash at the end. Why HTTP and not chunks over MQTT: Range resume is what the artifact servers
 * (the fleet's, any CDN's) already speak, the bytes stay off the gateway's readings journal and
 * the unit's outbox, and an expiring signed URL authorises exactly one release's files.
 */
export interface DownloadProgress {
  done: number;
  total: number;
  /** Response bytes received over the link for this artifact, across every attempt. */
  transferred: number;
  /** Attempts that started from a non-zero offset. */
  resumes: number;
}

interface PartState {
  url: string;
  synced: number;
  transferred: number;
  resumes: number;
}

export class DownloadError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'DownloadError';
    this.retryable = retryable;
  }
}

export interface DownloadOptions {
  url: string;
  path: string;
  size: number;
  timeoutMs?: number;
  syncEvery?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export function downloadProgress(path: string, size: number): DownloadProgress {
  const s = readStateFile<Partial<PartState>>(`${path}.part.json`, {}).value;
  return { done: Math.min(s.synced ?? 0, size), total: size, transferred: s.transferred ?? 0, resumes: s.resumes ?? 0 };
}

export function discardDownload(path: string): void {
  for (const p of [`${path}.part`, `${path}.part.json`, path]) rmSync(p, { force: true });
}

/**
 * Fetches until the part file holds `size` bytes, then renames nothing: the caller hashes
 * `<path>.part` and decides. One attempt per call; a cut connection rejects with a retryable error
 * after everything received has been kept.
 */
export async function downloadOnce(o: DownloadOptions): Promise<DownloadProgress> {
  const partPath = `${o.path}.part`;
  const metaPath = `${o.path}.part.json`;
  const saved = readStateFile<Partial<PartState>>(metaPath, {}).value;
  const state: PartState = {
    url: o.url,
    // A new URL for the same file (re-signed, another mirror) keeps the bytes: the hash decides at the end.
    synced: existsSync(partPath) ? Math.min(saved.synced ?? 0, statSync(partPath).size) : 0,
    transferred: saved.transferred ?? 0,
    resumes: saved.resumes ?? 0,
  };
  const fd = openSync(partPath, existsSync(partPath) ? 'r+' : 'w+');
  const progress = (): DownloadProgress => ({ done: state.synced, total: o.size, transferred: state.transferred, resumes: state.resumes });
  const sync = (at: number) => {
    fsyncSync(fd);
    state.synced = at;
    writeStateFile(metaPath, state);
    o.onProgress?.(progress());
  };
  try {
    ftruncateSync(fd, state.synced);
    if (state.synced >= o.size) return progress();
    if (state.synced > 0) state.resumes++;
    const res = await get(o.url, state.synced, o.timeoutMs ?? 30_000);
    let offset = state.synced;
    if (res.statusCode === 200 && offset > 0)
      offset = 0; // the server ignored the range: start over
    else if (res.statusCode !== 206 && res.statusCode !== 200) {
      res.resume();
      throw new DownloadError(`HTTP ${res.statusCode} for ${redact(o.url)}`, (res.statusCode ?? 0) >= 500 || res.statusCode === 429);
    }
    if (offset === 0) ftruncateSync(fd, 0);
    const syncEvery = o.syncEvery ?? 64 * 1024;
    let unsynced = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        state.transferred += chunk.length;
        const take = Math.min(chunk.length, o.size - offset);
        if (take > 0) writeSync(fd, chunk, 0, take, offset);
        offset += take;
        unsynced += chunk.length;
        if (unsynced >= syncEvery) {
          sync(offset);
          unsynced = 0;
        }
      }
    } catch (err) {
      sync(offset);
      throw new DownloadError(`download cut at ${offset} of ${o.size}: ${(err as Error).message}`, true);
    }
    sync(offset);
    if (offset < o.size) throw new DownloadError(`download cut at ${offset} of ${o.size}`, true);
    return progress();
  } finally {
    closeSync(fd);
  }
}

export function readPart(path: string): Buffer {
  return readFileSync(`${path}.part`);
}

async function get(url: string, from: number, timeoutMs: number): Promise<IncomingMessage> {
  const u = new URL(url);
  // node:https initialises OpenSSL (~4 MB): loaded for an https URL only.
  const request = u.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { headers: from > 0 ? { range: `bytes=${from}-` } : {} }, resolve);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs} ms`)));
    req.on('error', (err: Error) => reject(new DownloadError(`${redact(url)}: ${err.message}`, true)));
    req.end();
  });
}

/** Artifact URLs may carry a signature in their query: logs get the path only. */
function redact(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}
