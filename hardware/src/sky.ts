/**
 * Where the sun stands over a place at a time: NOAA's simplified solar geometry (declination from
 * the day of the year, hour angle from UTC and longitude), within about a degree, which is all a
 * panel's harvest needs. The simulator's sky and the unit's own judgement of its harvest (no
 * harvest in the dark is no fault) use this one definition.
 */
const RAD = Math.PI / 180;

/** Degrees above the horizon (negative: below it) at `t` (ms since epoch), latitude and longitude in degrees. */
export function sunElevationDeg(t: number, lat: number, lon: number): number {
  const d = new Date(t);
  const start = Date.UTC(d.getUTCFullYear(), 0, 0);
  const dayOfYear = Math.floor((t - start) / 86_400_000);
  const declination = 23.44 * Math.sin(RAD * (360 / 365) * (dayOfYear + 284));
  const utcHours = d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600;
  const hourAngle = 15 * (utcHours + lon / 15 - 12);
  const s =
    Math.sin(lat * RAD) * Math.sin(declination * RAD) + Math.cos(lat * RAD) * Math.cos(declination * RAD) * Math.cos(hourAngle * RAD);
  return Math.asin(Math.max(-1, Math.min(1, s))) / RAD;
}
