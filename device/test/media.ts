/**
 * Media for bulk-lane tests: `makeSegment` records a real MPEG-TS segment with ffmpeg (test pattern
 * + a 1 kHz tone, H.264 + AAC) and `makeStill` a JPEG; `receivedChunks` decodes what a test broker
 * accepted on the chunk topic; `assembled` puts one recording's chunks back together by offset.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeMessage, type MediaChunk } from '@shouwang/protocol';
import type { Received } from './broker.ts';

const run = promisify(execFile);

export async function makeSegment(dir: string, name: string, seconds: number, kbps = 512): Promise<string> {
  const out = join(dir, name);
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=426x240:rate=15`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000'],
    ...[
      '-t',
      String(seconds),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-b:v',
      `${kbps}k`,
      '-maxrate',
      `${kbps}k`,
      '-bufsize',
      `${kbps}k`,
    ],
    ...['-c:a', 'aac', '-b:a', '32k', '-f', 'mpegts', out],
  ]);
  return out;
}

export async function makeStill(dir: string, name: string, size = '160x120'): Promise<string> {
  const out = join(dir, name);
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}`, '-frames:v', '1', out]);
  return out;
}

export function receivedChunks(received: readonly Received[]): MediaChunk[] {
  const out: MediaChunk[] = [];
  for (const r of received) {
    const m = decodeMessage(r.topic, r.payload);
    if (m.ok && m.value.type === 'chunk') out.push(m.value.payload);
  }
  return out;
}

/** One recording's bytes from its chunks (each offset once), or undefined while there are gaps. */
export function assembled(chunks: readonly MediaChunk[], recording: string): Buffer | undefined {
  const mine = chunks.filter((c) => c.recording === recording);
  const size = mine[0]?.size;
  if (size === undefined) return undefined;
  const buf = Buffer.alloc(size);
  const have = new Uint8Array(size);
  for (const c of mine) {
    buf.set(c.data, c.offset);
    have.fill(1, c.offset, c.offset + c.data.length);
  }
  return have.every((b) => b === 1) ? buf : undefined;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const fileSha256 = async (path: string) => sha256(await readFile(path));
