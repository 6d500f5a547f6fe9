import type { Logger } from 'pino';

export interface RunningService {
  /** What the parent needs to know once the service serves, e.g. bound ports. */
  info: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * Runs a service as a process: starts it, tells a parent over IPC that it is ready (so an
 * orchestrator can wait on real readiness, not on sleeps), and closes it once on SIGINT/SIGTERM
 * or a parent disconnect.
 */
export async function runService(log: Logger, start: () => Promise<RunningService>): Promise<void> {
  let service: RunningService;
  try {
    service = await start();
  } catch (err) {
    log.fatal({ err }, 'failed to start');
    process.exitCode = 1;
    return;
  }
  log.info(service.info, 'ready');
  process.send?.({ type: 'ready', ...service.info });
  let closing = false;
  const stop = (reason: string) => {
    if (closing) return;
    closing = true;
    log.info({ reason }, 'stopping');
    const force = setTimeout(() => {
      log.error('close took longer than 5 s; exiting');
      process.exit(1);
    }, 5000);
    force.unref();
    service.close().then(
      () => {
        log.info('stopped');
        process.disconnect?.();
      },
      (err: unknown) => {
        log.error({ err }, 'close failed');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('disconnect', () => stop('parent gone'));
}
