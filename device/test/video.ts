/**
 * Test vocabulary for video: `probe(file)` asks the real ffprobe what a file holds (streams with
 * their codecs, duration) and rejects when it cannot be decoded; `simCamera()` is the simulator's
 * camera (test pattern + tone) as the agent gets it from `openBoard`.
 */
import { execFile } from 'node:child_process';
import { boardDefinition, type CameraSource, openBoard, systemClock } from '@shouwang/hardware';
import pino from 'pino';

export interface Probe {
  streams: { codec_type: string; codec_name: string }[];
  durationS: number;
}

export function probe(file: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration', '-of', 'json', file],
      (err, stdout, stderr) => {
        if (err || stderr.trim()) return reject(new Error(`ffprobe ${file}: ${stderr.trim() || (err as Error).message}`));
        const j = JSON.parse(stdout) as { streams: Probe['streams']; format: { duration?: string } };
        resolve({ streams: j.streams, durationS: Number(j.format.duration ?? 0) });
      },
    );
  });
}

/** The codecs of a probe's streams, e.g. ['audio:aac', 'video:h264']. */
export const codecs = (p: Probe) => p.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort();

export async function simCamera(): Promise<{ camera: CameraSource; close(): Promise<void> }> {
  const board = await openBoard(boardDefinition('pi4'), {
    mode: 'sim',
    sim: { unitId: 'hrb-170', site: { lat: 45.75, lon: 126.63 }, scenario: 'harbin-winter', link: 'lte', clock: systemClock },
  });
  return { camera: board.camera, close: () => board.close() };
}

export const quietLog = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
