import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { PMTiles, type Source, TileType } from 'pmtiles';

/**
 * An operator's offline base map: one PMTiles v3 archive of raster tiles (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md),
 * checked once at start-up and served as a file with HTTP byte ranges (RFC 9110 §14), which is
 * all the browser's pmtiles reader asks for: a header, a directory, then each tile's bytes.
 */
export interface TileArchive {
  path: string;
  size: number;
  minZoom: number;
  maxZoom: number;
  etag: string;
}

export const TILE_ARCHIVE_ROUTE = '/tiles/archive.pmtiles';

const RASTER: ReadonlySet<number> = new Set([TileType.Png, TileType.Jpeg, TileType.Webp, TileType.Avif]);

class HandleSource implements Source {
  readonly #fd: FileHandle;
  readonly #key: string;
  constructor(fd: FileHandle, key: string) {
    this.#fd = fd;
    this.#key = key;
  }
  getKey(): string {
    return this.#key;
  }
  async getBytes(offset: number, length: number) {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await this.#fd.read(buf, 0, length, offset);
    return { data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + bytesRead) };
  }
}

/** Reads the archive's header through the pmtiles library; a file that is no raster PMTiles v3 stops the start, named. */
export async function openTileArchive(path: string): Promise<TileArchive> {
  let fd: FileHandle;
  try {
    fd = await open(path, 'r');
  } catch (err) {
    throw new Error(`dashboard.tiles.file: cannot open '${path}' (${(err as Error).message})`);
  }
  try {
    const stat = await fd.stat();
    const header = await new PMTiles(new HandleSource(fd, path)).getHeader().catch((err: Error) => {
      throw new Error(`dashboard.tiles.file: '${path}' is not a PMTiles archive (${err.message})`);
    });
    if (header.specVersion !== 3) throw new Error(`dashboard.tiles.file: '${path}' is PMTiles v${header.specVersion}; v3 is read`);
    if (!RASTER.has(header.tileType))
      throw new Error(
        `dashboard.tiles.file: '${path}' holds ${TileType[header.tileType] ?? 'unknown'} tiles; the map draws raster tiles (png, jpeg, webp, avif)`,
      );
    return {
      path,
      size: stat.size,
      minZoom: header.minZoom,
      maxZoom: header.maxZoom,
      etag: `"${stat.size.toString(36)}-${stat.mtimeMs.toString(36)}"`,
    };
  } finally {
    await fd.close();
  }
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the file; null when unsatisfiable; one range only (all pmtiles asks). */
export function byteRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start <= end && start < size ? { start, end } : null;
}

/** Open like the page's script: a base map holds nothing secret, and the browser's reader sends no token. */
export function registerTileArchive(app: FastifyInstance, archive: TileArchive): void {
  app.get(TILE_ARCHIVE_ROUTE, async (req, reply) => {
    reply.header('accept-ranges', 'bytes').header('etag', archive.etag).header('cache-control', 'no-cache');
    const asked = req.headers.range;
    if (!asked) return reply.type('application/octet-stream').header('content-length', archive.size).send(createReadStream(archive.path));
    const r = byteRange(asked, archive.size);
    if (!r)
      return reply
        .code(416)
        .header('content-range', `bytes */${archive.size}`)
        .send({ error: { code: 'RANGE_NOT_SATISFIABLE', message: `range ${asked} is outside the archive's ${archive.size} bytes` } });
    return reply
      .code(206)
      .type('application/octet-stream')
      .header('content-range', `bytes ${r.start}-${r.end}/${archive.size}`)
      .header('content-length', r.end - r.start + 1)
      .send(createReadStream(archive.path, { start: r.start, end: r.end }));
  });
}
