import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/**
 * Structured JSON logs to stdout (or the given destination); modules take `log.child({ module })`.
 *
 * Through `process.stdout`, not pino's default sonic-boom on fd 1: when stdout is a pipe whose
 * reader died (an orchestrator killed with -9), sonic-boom's exit-time flush retries EPIPE forever
 * and the process never ends. A dead stdout loses the log lines, never the process.
 */
export function createLogger(name: string, options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = { name, level: options.level ?? process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } };
  if (options.destination) return pino(opts, options.destination);
  if (process.stdout.listenerCount('error') === 0) process.stdout.on('error', () => undefined);
  return pino(opts, process.stdout);
}
