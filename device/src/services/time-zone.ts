import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ZONEINFO = '/usr/share/zoneinfo';

/**
 * Makes `zone` the process's local time, which the schedules run in. An unknown name would leave
 * the agent on UTC without a word (that is what V8 does with a bad TZ), so it is refused here; the
 * names are checked against the system's tz database where it exists (every Raspberry Pi OS image),
 * since asking ICU would load the 8 MB of it the unit's bundle avoids (deploy/node-cron-local-time.ts).
 * Returns the zone's current offset east of UTC in minutes, for the start-up log.
 */
export function useTimeZone(zone: string, now = new Date(), zoneinfo = ZONEINFO): number {
  if (zone !== 'UTC' && existsSync(zoneinfo) && !existsSync(join(zoneinfo, zone)))
    throw new Error(`schedule.timezone: unknown time zone ${JSON.stringify(zone)} (not in ${zoneinfo})`);
  process.env.TZ = zone;
  return 0 - now.getTimezoneOffset(); // not `-offset`: UTC would log as -0
}
