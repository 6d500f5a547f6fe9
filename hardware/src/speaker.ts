import { execFile } from 'node:child_process';
import type { Speaker } from './ports.ts';

/** The real loudspeaker: ffmpeg decodes the file and plays it on an ALSA device, at its own pace. */
export function alsaSpeaker(device: string): Speaker {
  return {
    play: (file) =>
      new Promise((resolve, reject) => {
        execFile(
          'ffmpeg',
          ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-f', 'alsa', device],
          { timeout: 120_000 },
          (err, _o, stderr) => (err ? reject(new Error(`speaker ${device}: ${stderr.trim() || err.message}`)) : resolve()),
        );
      }),
  };
}
