import type { Logger } from 'pino';

export interface RunningService {
  /** What the parent needs to know once the service serves, e.g. bound ports. */
  info: Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * Runs a service as a process: starts it, tells a parent over IPC that it is ready (so an
 * orchestrator can wait on real readiness, not on sleeps), and closes it once on SIGINT/SIGTERM
 * or a parent disconnect. A start that fails tells the parent why (`{ type: 'failed', reason }`)
 * and exits 1, whatever the half-started service still holds open (a listener, a timer): a
 * process that logged FATAL and lingered kept its ports and hung its orchestrator.
 */
export async function runService(log: Logger, start: () => Promise<RunningService>): Promise<void> {
  // Until the service is up, losing the parent (an orchestrator killed mid-start) ends the process.
  const orphaned = () => {
    log.warn('parent gone while starting; exiting');
    process.exit(1);
  };
  process.once('disconnect', orphaned);
  let service: RunningService;
  try {
    service = await start();
  } catch (err) {
    log.fatal({ err }, 'failed to start');
    process.off('disconnect', orphaned);
    process.exitCode = 1;
    const reason = err instanceof Error ? err.message : String(err);
    if (process.send) process.send({ type: 'failed', reason }, () => process.exit(1));
    else setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  process.off('disconnect', orphaned);
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
        // Closing the IPC channel lets the process end; it is already closed when the parent went.
        if (process.connected) process.disconnect();
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
