import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CameraSource } from '@shouwang/hardware';

/**
 * Still snapshots with ffmpeg from the board's camera source (a V4L2 device on the Pi, a test
 * pattern in the simulator): one JPEG per call into `<dataDir>/snapshots/<ts>.jpg`, the newest
 * `keep` files kept. Whether a snapshot is allowed at all is the power rung's call (camera duty),
 * made by the caller.
 */
export class SnapshotCamera {
  private readonly source: CameraSource;
  private readonly dir: string;
  private readonly keep: number;

  constructor(source: CameraSource, dataDir: string, keep = 96) {
    this.source = source;
    this.dir = join(dataDir, 'snapshots');
    this.keep = keep;
  }

  capture(ts: number): Promise<string> {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${ts}.jpg`);
    return new Promise((resolve, reject) => {
      execFile(
        'ffmpeg',
        ['-hide_banner', '-loglevel', 'error', '-y', ...this.source.ffmpegInput, '-frames:v', '1', '-q:v', '6', file],
        { timeout: 30_000 },
        (err) => {
          if (err) return reject(err);
          this.prune();
          resolve(file);
        },
      );
    });
  }

  private prune(): void {
    const files = readdirSync(this.dir)
      .filter((f) => f.endsWith('.jpg'))
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    for (const f of files.slice(0, Math.max(0, files.length - this.keep))) rmSync(join(this.dir, f), { force: true });
  }
}
