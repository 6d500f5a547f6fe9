import type { Clock } from '../ports.ts';

/**
 * Simulated time running `scale` times faster than real time from `start`. Timers fire on the
 * simulated schedule, so an agent's 10-minute report comes every 6 s at scale 100 and a winter
 * week passes in minutes.
 */
export function scaledClock(scale: number, start = Date.now()): Clock {
  const realStart = Date.now();
  const s = Math.max(scale, 1e-6);
  return {
    now: () => Math.round(start + (Date.now() - realStart) * s),
    setTimeout: (fn, ms) => setTimeout(fn, ms / s),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    setInterval: (fn, ms) => setInterval(fn, Math.max(1, ms / s)),
    clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  };
}
