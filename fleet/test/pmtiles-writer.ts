/**
 * A minimal PMTiles v3 writer for tests (https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md):
 * one root directory, no compression, every listed tile pointing at one solid-colour PNG, so a
 * test can build a real archive in a few lines and tell its tiles on screen by their colour.
 */
import { crc32, deflateSync } from 'node:zlib';
import { zxyToTileId } from 'pmtiles';

/** A 256×256 PNG of one colour (RFC 2083: signature, IHDR, IDAT, IEND). */
export function solidPng(r: number, g: number, b: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(256, 0);
  ihdr.writeUInt32BE(256, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 256 }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: 256 }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Tiles of `tile` at every (z, x, y) covering the box, for zooms minZoom..maxZoom. */
export function pmtilesArchive(o: {
  tile: Buffer;
  minZoom: number;
  maxZoom: number;
  bounds: { minLon: number; minLat: number; maxLon: number; maxLat: number };
}): Buffer {
  const { minLon, minLat, maxLon, maxLat } = o.bounds;
  const tx = (lon: number, z: number) => Math.floor(((lon + 180) / 360) * 2 ** z);
  const ty = (lat: number, z: number) => {
    const r = (lat * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
  };
  const ids: number[] = [];
  for (let z = o.minZoom; z <= o.maxZoom; z++)
    for (let x = tx(minLon, z); x <= tx(maxLon, z); x++)
      for (let y = ty(maxLat, z); y <= ty(minLat, z); y++) ids.push(zxyToTileId(z, x, y));
  ids.sort((a, b) => a - b);
  // Directory: count, tile id deltas, run lengths, lengths, offsets (+1; every entry the one tile at 0).
  const dir = Buffer.from([
    ...varint(ids.length),
    ...ids.flatMap((id, i) => varint(id - (ids[i - 1] ?? 0))),
    ...ids.flatMap(() => varint(1)),
    ...ids.flatMap(() => varint(o.tile.length)),
    ...ids.flatMap(() => varint(1)),
  ]);
  const meta = Buffer.from('{"name":"test tiles"}');
  const h = Buffer.alloc(127);
  const u64 = (at: number, v: number) => h.writeBigUInt64LE(BigInt(v), at);
  const e7 = (at: number, v: number) => h.writeInt32LE(Math.round(v * 1e7), at);
  h.write('PMTiles', 0, 'ascii');
  h.writeUInt8(3, 7);
  u64(8, 127);
  u64(16, dir.length);
  u64(24, 127 + dir.length);
  u64(32, meta.length);
  u64(40, 127 + dir.length + meta.length);
  u64(48, 0);
  u64(56, 127 + dir.length + meta.length);
  u64(64, o.tile.length);
  u64(72, ids.length);
  u64(80, ids.length);
  u64(88, 1);
  h.writeUInt8(0, 96); // not clustered: entries share one tile
  h.writeUInt8(1, 97); // internal compression: none
  h.writeUInt8(1, 98); // tile compression: none
  h.writeUInt8(2, 99); // png
  h.writeUInt8(o.minZoom, 100);
  h.writeUInt8(o.maxZoom, 101);
  e7(102, minLon);
  e7(106, minLat);
  e7(110, maxLon);
  e7(114, maxLat);
  h.writeUInt8(o.minZoom, 118);
  e7(119, (minLon + maxLon) / 2);
  e7(123, (minLat + maxLat) / 2);
  return Buffer.concat([h, dir, meta, o.tile]);
}
