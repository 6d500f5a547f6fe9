/**
 * Data use of the video features per month on cellular, from real media (ffmpeg: test pattern +
 * 1 kHz tone, H.264 + AAC in MPEG-TS; JPEG stills) cut into the lane's real chunks at the size it
 * picks on 4G at 512 kbit/s, each as a QoS 1 PUBLISH (publishPacketBytes) plus its PUBACK, with
 * TCP/IPv4 headers by the rule of bytes.ts (52 B per 1448 B of payload, 52 B per PUBACK segment).
 * Each row's baseline is the media bytes themselves. Assumptions (per day): a still every 15 min
 * (the schedule), 2 alarms each with a 20 s clip and a still, 10 min of live view.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encodeChunk, topics } from '@shouwang/protocol';
import type { BenchRow } from '@shouwang/runtime';
import { laneSizing, NOMINAL_RATE } from '../src/domain/bulk-lane.ts';
import { publishPacketBytes } from '../src/domain/upload-policy.ts';

const run = promisify(execFile);
const UNIT = 'hrb-001';
const TCPIP = 52;
const MSS = 1448;
const MONTH = 30;

async function clip(dir: string, seconds: number, kbps: number): Promise<Buffer> {
  const out = join(dir, `clip-${kbps}.ts`);
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=15'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000', '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', `${kbps - 32}k`, '-maxrate', `${kbps - 32}k`, '-bufsize', `${kbps}k`],
    ...['-c:a', 'aac', '-b:a', '32k', '-f', 'mpegts', out],
  ]);
  return readFile(out);
}

async function still(dir: string): Promise<Buffer> {
  const out = join(dir, 'still.jpg');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360',
    '-frames:v',
    '1',
    '-q:v',
    '5',
    out,
  ]);
  return readFile(out);
}

/** Bytes on the air to upload one file through the bulk lane on 4G at 512 kbit/s. */
function wire(file: Buffer): number {
  const { chunkBytes } = laneSizing(NOMINAL_RATE.lte, 1000);
  const whole = createHash('sha256').update(file).digest();
  let total = 0;
  for (let offset = 0; offset < file.length; offset += chunkBytes) {
    const data = file.subarray(offset, offset + chunkBytes);
    const hash = createHash('sha256').update(data).digest();
    const bytes = encodeChunk({ recording: 'clip-1763856000', kind: 'clip', offset, hash, data, size: file.length, sha256: whole }).length;
    const publish = publishPacketBytes(topics.chunk(UNIT), bytes, 1);
    total += publish + Math.ceil(publish / MSS) * TCPIP + 4 + TCPIP;
  }
  return total;
}

export async function bench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-bench-video-'));
  try {
    const jpeg = await still(dir);
    const rows: BenchRow[] = [];
    const month = (name: string, files: Buffer[], perDay: number) => {
      const media = files.reduce((s, f) => s + f.length, 0) * perDay * MONTH;
      const onAir = files.reduce((s, f) => s + wire(f), 0) * perDay * MONTH;
      rows.push({ name: `cellular/month: ${name} (baseline: the media bytes)`, value: onAir / 1e6, baseline: media / 1e6, unit: 'MB' });
    };
    month(`stills every 15 min (${(jpeg.length / 1000).toFixed(0)} kB JPEG, 640×360)`, [jpeg], 96);
    for (const kbps of [1024, 512, 256]) {
      const c = await clip(dir, 20, kbps);
      month(`2 alarms/day, each a 20 s clip at ${kbps} kbit/s + a still`, [c, jpeg], 2);
    }
    const live = await clip(dir, 60, 512);
    month('10 min/day of live view at 512 kbit/s', [live], 10);
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
