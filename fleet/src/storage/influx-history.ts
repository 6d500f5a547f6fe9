import { influxFromUrl } from '@shouwang/runtime/influx';
import { type InfluxDB, escape as influxql } from 'influx';
import type { LocationRow, PowerRow } from './schema.ts';

/**
 * Power history from InfluxDB, where the gateway writes every accepted reading at its event time
 * (measurement `power`, tag `unit`; digests land there too). Used instead of the fleet's own
 * history table when an InfluxDB is configured: one store of record for readings, kept by the
 * gateway, with the fleet a reader. Speaks the 1.x HTTP API (InfluxQL), as the gateway does.
 */
export interface PowerHistorySource {
  powerHistory(unitId: string, from: number, to: number, limit: number): Promise<PowerRow[]>;
}

/** A unit's positions with a fix (measurement `location`), the newest `limit` in [from, to], oldest first. */
export interface LocationHistorySource {
  locationHistory(unitId: string, from: number, to: number, limit: number): Promise<LocationRow[]>;
}

interface PowerPoint {
  time: { getNanoTime(): string } & Date;
  soc: number | null;
  batteryV: number | null;
  solarW: number | null;
  windW: number | null;
  loadW: number | null;
  state: string | null;
}

interface LocationPoint {
  time: Date;
  lat: number | null;
  lon: number | null;
}

export class InfluxPowerHistory implements PowerHistorySource, LocationHistorySource {
  readonly #influx: InfluxDB;

  constructor(url: string, database: string) {
    this.#influx = influxFromUrl(url, database);
  }

  async powerHistory(unitId: string, from: number, to: number, limit: number): Promise<PowerRow[]> {
    const rows = await this.#query<PowerPoint>('soc, batteryV, solarW, windW, loadW, state', 'power', unitId, from, to, 'ASC', limit);
    return rows.flatMap((r) =>
      r.soc === null || r.batteryV === null
        ? []
        : [
            {
              unit_id: unitId,
              ts: r.time.getTime(),
              soc: r.soc,
              battery_v: r.batteryV,
              solar_w: r.solarW ?? 0,
              wind_w: r.windW ?? 0,
              load_w: r.loadW ?? 0,
              state: r.state ?? '',
            },
          ],
    );
  }

  async locationHistory(unitId: string, from: number, to: number, limit: number): Promise<LocationRow[]> {
    const rows = await this.#query<LocationPoint>('lat, lon', 'location', unitId, from, to, 'DESC', limit);
    return rows
      .flatMap((r) => (r.lat === null || r.lon === null ? [] : [{ unit_id: unitId, ts: r.time.getTime(), lat: r.lat, lon: r.lon }]))
      .reverse();
  }

  #query<T>(fields: string, measurement: string, unitId: string, from: number, to: number, order: 'ASC' | 'DESC', limit: number) {
    // Times in ms, bound as integers with the ms precision suffix; the unit id is escaped as a tag value.
    return this.#influx
      .query<T>(
        `SELECT ${fields} FROM ${measurement} WHERE unit = ${influxql.stringLit(unitId)} ` +
          `AND time >= ${Math.floor(from)}ms AND time <= ${Math.floor(to)}ms ORDER BY time ${order} LIMIT ${Math.floor(limit)}`,
      )
      .catch((err: Error) => {
        // The gateway creates the database with its first write: until then there is no history yet, not a failure.
        if (/database not found/.test(err.message)) return [];
        throw err;
      });
  }
}
