/**
 * Media as the unit makes it, measured: bytes per second of ring recording at a ladder rate (the
 * recorder's own ffmpeg arguments, the simulator's test pattern and tone, 10 s unpaced), a still's
 * bytes at a ladder size, and what the bulk lane puts on the wire per media byte (real chunks
 * encoded by the protocol, MQTT PUBLISH + PUBACK, TCP/IPv4 headers per packet) at the chunk size
 * it uses on 4G. For the data-use table (bytes.ts).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeChunk, topics } from '@shouwang/protocol';
import { laneSizing, NOMINAL_RATE } from '../src/domain/bulk-lane.ts';
import { publishPacketBytes } from '../src/domain/upload-policy.ts';
import type { SnapshotSize } from '../src/domain/video-ladder.ts';
import { type RecordingProfile, recorderArgs } from '../src/services/recorder.ts';

const SECONDS = 10;
const TCPIP = 52;
const camera = {
  ffmpegInput: ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15'],
  audioInput: ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000'],
  encoder: 'libx264',
} as const;

export function recordingBytesPerSecond(kbps: number, fps: number, profile: Partial<RecordingProfile> = {}): number {
  const dir = mkdtempSync(join(tmpdir(), 'sw-media-'));
  try {
    const args = recorderArgs({ kind: 'camera', camera }, { kbps, fps, segmentS: 2, ...profile }, dir, 0);
    // Ten seconds of source: -t before the output options.
    execFileSync('ffmpeg', [...args.slice(0, args.indexOf('-map')), '-t', String(SECONDS), ...args.slice(args.indexOf('-map'))], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0) / SECONDS;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function stillBytes(size: SnapshotSize): number {
  const dir = mkdtempSync(join(tmpdir(), 'sw-still-'));
  try {
    const file = join(dir, 's.jpg');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      ...camera.ffmpegInput,
      '-frames:v',
      '1',
      '-vf',
      `scale=${size.width}:${size.height}`,
      '-q:v',
      String(size.quality),
      file,
    ]);
    return statSync(file).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wire bytes per media byte on 4G: each chunk a QoS 1 PUBLISH with its PUBACK, each in TCP segments. */
export function uploadOverhead(unitId: string): number {
  const { chunkBytes } = laneSizing(NOMINAL_RATE.lte, 1000);
  const data = new Uint8Array(chunkBytes).map((_, i) => (i * 7919) % 251);
  const hash = createHash('sha256').update(data).digest();
  const payload = encodeChunk({
    recording: 'clip-tamper-mx4mxcjr',
    kind: 'clip',
    offset: 1_048_576,
    hash,
    data,
    size: 4_000_000,
    sha256: hash,
  });
  const pub = publishPacketBytes(topics.chunk(unitId), payload.length, 1);
  // A chunk spans several 1,448-byte TCP segments; the PUBACK rides one of its own.
  const segments = Math.ceil(pub / 1448);
  return (pub + segments * TCPIP + 4 + TCPIP) / chunkBytes;
}
