import { InfluxDB } from 'influx';

/**
 * An InfluxDB 1.x HTTP API client (Debian's 1.6, and the 1.x compatibility API of 2.x and 3.x)
 * from one URL, credentials in its user-info part: `http://user:pass@host:8086`. The gateway
 * writes readings through it and the fleet reads history through it.
 */
export function influxFromUrl(url: string, database: string): InfluxDB {
  const u = new URL(url);
  return new InfluxDB({
    host: u.hostname,
    port: Number(u.port || 8086),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    database,
    ...(u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : {}),
  });
}
