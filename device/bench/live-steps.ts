/**
 * What each step of the live ladder (src/domain/live-rate.ts) weighs on the wire: 1 s MPEG-TS
 * segments at the step's video, frame and audio rates and the live feed's tight rate buffer
 * (`paced`), from the simulator's test pattern and tone
 * with the recorder's own ffmpeg arguments (media-sizes.lib.ts, 10 s unpaced), in kbit/s. Baseline,
 * same run: the same rates cut into the ring's 2 s segments, so the ratio is what the shorter
 * segments of a live feed cost (a keyframe and the container's tables each second). The target is
 * the figure the ladder decides with (`wireKbps`).
 */
import type { BenchRow } from '@shouwang/runtime';
import { LIVE_STEPS } from '../src/domain/live-rate.ts';
import { recordingBytesPerSecond } from './media-sizes.lib.ts';

export async function bench(): Promise<BenchRow[]> {
  return LIVE_STEPS.map((s) => {
    const kbps = (segmentS: number) =>
      (recordingBytesPerSecond(s.kbps, s.fps, { segmentS, audioKbps: s.audioKbps, paced: true }) * 8) / 1000;
    return {
      name: `live step ${s.kbps} kbit/s ${s.fps} fps + ${s.audioKbps} kbit/s AAC on the wire, 1 s segments (baseline 2 s)`,
      value: kbps(1),
      unit: 'kbit/s',
      baseline: kbps(2),
      target: `ladder ${s.wireKbps}`,
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await bench());
