import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger };

/** Structured JSON logs to stdout (or the given destination); modules take `log.child({ module })`. */
export function createLogger(name: string, options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const opts: LoggerOptions = { name, level: options.level ?? process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
