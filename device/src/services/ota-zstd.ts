import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib';

/**
 * Release artifacts in zstd through Node's own zlib (24+), no native binding to build per board.
 * A delta is the new bundle compressed with the old one as a raw-content dictionary, which is what
 * `zstd --patch-from` does: every run the two bundles share costs a short back-reference.
 * `zstd -d --long=24 -D <old bundle> <delta>` reads it too.
 *
 * 2^24: the window must span the whole bundle (~1 MB) so a match anywhere in the old one is reachable.
 */
const WINDOW_LOG = 24;
const LEVEL = 19;

const compressParams = {
  [constants.ZSTD_c_compressionLevel]: LEVEL,
  [constants.ZSTD_c_windowLog]: WINDOW_LOG,
  [constants.ZSTD_c_checksumFlag]: 1,
};
const decompressParams = { [constants.ZSTD_d_windowLogMax]: WINDOW_LOG };

export function compressFull(bundle: Uint8Array): Buffer {
  return zstdCompressSync(bundle, { params: compressParams });
}

export function makeDelta(from: Uint8Array, to: Uint8Array): Buffer {
  return zstdCompressSync(to, { params: compressParams, dictionary: Buffer.from(from) });
}

/** Throws when the data is not a zstd frame, is cut short, or fails its own checksum. */
export function decompressFull(artifact: Uint8Array): Buffer {
  return zstdDecompressSync(artifact, { params: decompressParams });
}

export function applyDelta(from: Uint8Array, delta: Uint8Array): Buffer {
  return zstdDecompressSync(delta, { params: decompressParams, dictionary: Buffer.from(from) });
}
