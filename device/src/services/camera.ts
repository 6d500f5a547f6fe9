import { execFile } from 'node:child_process';
import type { SnapshotSize } from '../domain/video-ladder.ts';

/**
 * One JPEG still with ffmpeg, scaled to `size`: from the camera itself (its ffmpeg input), or — while the recorder
 * holds the camera (a V4L2 device has one reader) — from the first frame of the newest ring segment.
 */
export function grabStill(from: { input: readonly string[] } | { segment: string }, size: SnapshotSize, file: string): Promise<void> {
  // A segment's first frame is its keyframe: no seeking (a seek into a TS segment can land past its only keyframe).
  const input = 'input' in from ? from.input : ['-i', from.segment];
  return new Promise((resolve, reject) => {
    execFile(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...input],
        ...['-frames:v', '1', '-vf', `scale=${size.width}:${size.height}`, '-q:v', String(size.quality), file],
      ],
      { timeout: 30_000 },
      (err, _out, stderr) => (err ? reject(new Error(`still: ${stderr.trim() || err.message}`)) : resolve()),
    );
  });
}
