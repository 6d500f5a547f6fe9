import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Clock, Speaker } from '../ports.ts';

/** One sound the simulated loudspeaker played: what a test holds a talk-down against. */
export interface PlayedSound {
  /** Simulated time it started. */
  at: number;
  bytes: number;
  sha256: string;
  /** Decoded length, s (ffprobe): the file was playable, not just received. */
  durationS: number;
}

/**
 * The simulated loudspeaker: instead of an ALSA device it decodes the file with ffprobe (so a
 * file the real speaker could not play fails here too) and records what it played.
 */
export class SimSpeaker implements Speaker {
  readonly played: PlayedSound[] = [];
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async play(file: string): Promise<void> {
    const at = this.clock.now();
    const data = await readFile(file);
    const durationS = await new Promise<number>((resolve, reject) => {
      execFile(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', file],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          const d = Number.parseFloat(stdout);
          if (err || !Number.isFinite(d)) return reject(new Error(`speaker: cannot decode ${file}: ${stderr.trim() || 'no duration'}`));
          resolve(d);
        },
      );
    });
    this.played.push({ at, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), durationS });
  }
}
