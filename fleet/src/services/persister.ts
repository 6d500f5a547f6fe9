import type { Power } from '@shouwang/protocol';
import type { Logger } from 'pino';
import type { LocationRow, PowerRow, UnitStateRow } from '../storage/schema.ts';
import type { FleetStore } from '../storage/store.ts';
import type { FleetState, StoredTrack } from './fleet-state.ts';

/**
 * Write-behind from live state to storage: changes are collected and flushed once per interval
 * in one transaction, so 10,000 units reporting every 10 s cost one write per second, not 1,000.
 * A flush that fails keeps its rows for the next one; the live state never waits for the disk.
 */
export interface Persister {
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** `keepHistory: false` when readings already have a store of record (the gateway's InfluxDB). */
export function startPersister(state: FleetState, store: FleetStore, intervalMs: number, log: Logger, keepHistory = true): Persister {
  let dirty = new Set<string>();
  let readings: PowerRow[] = [];
  let positions: LocationRow[] = [];
  let running: Promise<void> = Promise.resolve();
  const onUnit = (u: { id: string }) => dirty.add(u.id);
  const onPower = (id: string, p: Power) => readings.push(toPowerRow(id, p));
  const onLocation = (id: string, ts: number, at: { lat: number; lon: number }) =>
    positions.push({ unit_id: id, ts, lat: at.lat, lon: at.lon });
  state.on('unit', onUnit);
  if (keepHistory) {
    state.on('power', onPower);
    state.on('location', onLocation);
  }

  const flushOnce = async () => {
    const ids = dirty;
    const rows = readings;
    const fixes = positions;
    dirty = new Set();
    readings = [];
    positions = [];
    const now = Date.now();
    const states = [...ids].flatMap((id) => {
      const s = state.stored(id);
      return s ? [toStateRow(s, now)] : [];
    });
    try {
      await store.appendPower(rows);
      await store.appendLocations(fixes);
      await store.saveStates(states);
    } catch (err) {
      log.error({ err: (err as Error).message, units: ids.size, readings: rows.length }, 'storage flush failed; will retry');
      for (const id of ids) dirty.add(id);
      readings = rows.concat(readings);
      positions = fixes.concat(positions);
    }
  };
  // Flushes never overlap: each waits for the one before.
  const flush = () => {
    running = running.then(flushOnce);
    return running;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  return {
    flush,
    async close() {
      clearInterval(timer);
      state.off('unit', onUnit);
      state.off('power', onPower);
      state.off('location', onLocation);
      await flush();
    },
  };
}

function toPowerRow(unitId: string, p: Power): PowerRow {
  return {
    unit_id: unitId,
    ts: p.ts,
    soc: p.soc,
    battery_v: p.batteryV,
    solar_w: p.solarW,
    wind_w: p.windW,
    load_w: p.loadW,
    state: p.state,
  };
}

const json = (v: unknown) => (v === null ? null : JSON.stringify(v));

function toStateRow(s: StoredTrack, now: number): UnitStateRow {
  return {
    id: s.state.id,
    presence: json(s.state.presence),
    power: json(s.state.power),
    location: json(s.state.location),
    link: json(s.state.link),
    running: json(s.state.running),
    last_seen: s.state.lastSeen,
    deployment_lat: s.deployment?.lat ?? null,
    deployment_lon: s.deployment?.lon ?? null,
    updated_at: now,
  };
}

/** Rebuilds a stored track; the online flag follows the stored presence. */
export function fromStateRow(r: UnitStateRow): StoredTrack {
  const parse = <T>(v: string | null) => (v === null ? null : (JSON.parse(v) as T));
  const presence = parse<StoredTrack['state']['presence']>(r.presence);
  return {
    state: {
      id: r.id,
      online: presence?.state === 'online',
      lastSeen: r.last_seen,
      presence,
      power: parse(r.power),
      location: parse(r.location),
      link: parse(r.link),
      running: parse(r.running),
    },
    deployment: r.deployment_lat !== null && r.deployment_lon !== null ? { lat: r.deployment_lat, lon: r.deployment_lon } : null,
  };
}
