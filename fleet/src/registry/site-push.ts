import type { Logger } from 'pino';
import type { CommandClient } from '../services/commands.ts';

/**
 * The registry's deployment site reaches the unit as a `config-set` of `site.lat`/`site.lon`
 * (live on the unit: its geofence centre). The request rides QoS 1 on the unit's persistent
 * session, so a unit whose modem sleeps gets it at its next window; it stays valid for a month.
 * Resolves once the broker holds the request (or after `queueMs` if it does not answer), never
 * rejects: the registry's own write has succeeded either way, and the outcome is logged.
 */
const EXPIRES_MS = 30 * 86_400_000;
const WAIT_MS = 60_000;

export async function pushSiteToUnit(
  commands: CommandClient,
  unitId: string,
  site: { lat: number; lon: number },
  log: Logger,
  queueMs = 5000,
): Promise<void> {
  const posted = commands.post(
    unitId,
    'config-set',
    { config: { 'site.lat': site.lat, 'site.lon': site.lon } },
    {
      timeoutMs: WAIT_MS,
      expiresInMs: EXPIRES_MS,
      background: true,
    },
  );
  posted.then(
    ({ answer }) =>
      answer.then(
        (r) =>
          r.status === 'ok'
            ? log.info({ site }, 'deployment site applied on the unit')
            : log.warn({ site, error: r.error }, 'the unit refused its deployment site'),
        (err: unknown) =>
          log.info({ err, site }, 'deployment site not acknowledged yet; the queued request applies when it reaches the unit'),
      ),
    (err: unknown) => log.warn({ err, site }, 'deployment site not sent to the unit'),
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, queueMs);
    timer.unref();
  });
  await Promise.race([
    posted.then(
      () => undefined,
      () => undefined,
    ),
    late,
  ]);
  clearTimeout(timer);
}
