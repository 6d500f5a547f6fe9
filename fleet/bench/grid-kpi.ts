/**
 * The grid lookup at city scale and the KPIs over one district's winter.
 *
 * Rows: point-in-polygon lookup over a SYNTHETIC grid of ~29,700 cells (Harbin's count) through the
 * flatbush index, against a linear scan of every cell in the same run; KPI computation over
 * 200,000 tickets and their event log (~1.0 M events), against one plain pass over the same log
 * (the floor: reading it once).
 *
 * Runnable alone: `node fleet/bench/grid-kpi.ts`.
 */
import { readFileSync } from 'node:fs';
import type { BenchRow } from '@shouwang/runtime';
import type { FeatureCollection, Polygon } from 'geojson';
import { computeKpis, type KpiEvent, type KpiTicket } from '../src/domain/kpi.ts';
import { Grid } from '../src/grid/grid.ts';
import { synthesizeGrid } from '../src/grid/synthetic.ts';

/** Cell side giving ~29,700 cells over the map's districts (29,614 with the current outlines). */
const CITY_SIDE_DEG = 0.00357;
const TICKETS = 200_000;

function cityGrid(): Grid {
  const map = JSON.parse(readFileSync(new URL('../src/grid/harbin-districts.geojson', import.meta.url), 'utf8')) as FeatureCollection;
  const districts = map.features
    .filter((f) => f.properties?.level === 'district')
    .map((f) => ({
      id: String(f.properties?.name).split(' ')[0]?.toLowerCase() ?? '',
      name: String(f.properties?.name),
      polygon: f.geometry as Polygon,
    }));
  return new Grid(synthesizeGrid(districts, CITY_SIDE_DEG), 'city');
}

function points(n: number): [number, number][] {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  return Array.from({ length: n }, () => [45.5 + rnd() * 0.5, 126.45 + rnd() * 0.6]);
}

function perLookupUs(pts: readonly [number, number][], f: (lat: number, lon: number) => string | null): number {
  let found = 0;
  const t0 = process.hrtime.bigint();
  for (const [lat, lon] of pts) if (f(lat, lon)) found++;
  const us = Number(process.hrtime.bigint() - t0) / 1000 / pts.length;
  if (found === 0) throw new Error('no point fell in a cell: the bench measures nothing');
  return us;
}

function winter(): { tickets: KpiTicket[]; events: KpiEvent[] } {
  const H = 3_600_000;
  const t0 = Date.parse('2025-11-15T00:00:00Z');
  const tickets: KpiTicket[] = [];
  const events: KpiEvent[] = [];
  for (let i = 0; i < TICKETS; i++) {
    const openedAt = t0 + Math.floor((i / TICKETS) * 120 * 24 * H);
    const id = `t${i}`;
    tickets.push({
      id,
      cell: `c${i % 1425}`,
      community: `m${i % 120}`,
      street: `s${i % 12}`,
      district: 'daoli',
      department: `dep${i % 6}`,
      openedAt,
      deadlineAt: openedAt + 24 * H,
      alarmCount: 1 + (i % 3),
    });
    events.push(
      { ticketId: id, at: openedAt, action: 'dispatch' },
      { ticketId: id, at: openedAt + H, action: 'sign' },
      { ticketId: id, at: openedAt + 2 * H, action: 'handle' },
      { ticketId: id, at: openedAt + 5 * H, action: 'feedback' },
    );
    if (i % 17 === 0)
      events.push({ ticketId: id, at: openedAt + 6 * H, action: 'reopen' }, { ticketId: id, at: openedAt + 9 * H, action: 'feedback' });
    events.push({ ticketId: id, at: openedAt + (i % 50 === 0 ? 30 : 10) * H, action: 'close' });
  }
  return { tickets, events };
}

export async function bench(): Promise<BenchRow[]> {
  const grid = cityGrid();
  const pts = points(20_000);
  perLookupUs(pts.slice(0, 2000), (a, b) => grid.cellAt(a, b)); // warm-up
  const indexed = perLookupUs(pts, (a, b) => grid.cellAt(a, b));
  const scan = perLookupUs(pts.slice(0, 300), (a, b) => grid.cellAtByScan(a, b));

  const { tickets, events } = winter();
  const period = { from: 0, to: Date.parse('2026-04-01T00:00:00Z') };
  computeKpis(tickets.slice(0, 10_000), events, period, 'cell'); // warm-up
  const k0 = performance.now();
  const kpis = computeKpis(tickets, events, period, 'community');
  const kpiMs = performance.now() - k0;
  const p0 = performance.now();
  let closes = 0;
  for (const e of events) if (e.action === 'close') closes++;
  const passMs = performance.now() - p0;
  if (kpis.length === 0 || closes === 0) throw new Error('KPI bench computed nothing');
  return [
    { name: `cell lookup, ${grid.cellCount} cells (baseline: linear scan)`, value: indexed, unit: 'µs', baseline: scan, target: '< 20 µs' },
    {
      name: `KPIs by community, ${TICKETS} tickets / ${events.length} events (baseline: one pass over the log)`,
      value: kpiMs,
      unit: 'ms',
      baseline: passMs,
      target: '< 1000 ms',
    },
  ];
}

if (import.meta.main) console.table(await bench());
