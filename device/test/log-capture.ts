/** A pino logger whose JSON lines a test reads back (conventions §12: test log events by parsing them). */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@shouwang/runtime';

export function capture(level = 'debug'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger('test', { level, destination: dest }), lines };
}
