import { CELLULAR_GENERATION, commissionFailed, positionOf } from '@shouwang/protocol';
import type { AtRisk } from '../domain/risk.ts';
import type { UnitView } from '../domain/unit-state.ts';
import type { CommissioningRecord } from '../services/unit-commands.ts';

/** Plain-text views for a technician's terminal: one line per unit, aligned, no colour codes. */

export function ago(ts: number | null, now: number): string {
  if (ts === null) return 'never';
  const s = Math.max(0, Math.round((now - ts) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Times as the people at the fleet read them: in its zone, with the offset shown. Undefined for an unknown zone. */
export function clockIn(timeZone: string): ((ts: number) => string) | undefined {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
  } catch {
    return undefined;
  }
  return (ts) => {
    const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
  };
}

/** Liveness in words: a planned sleep says until when. */
function status(u: UnitView, at: (ts: number) => string): string {
  const l = u.liveness;
  if (!l) return u.online ? 'online' : 'offline';
  if (l.status === 'on-schedule') return l.dueBy === null ? 'asleep' : `asleep until ${at(l.dueBy)}`;
  if (l.status === 'restarting') return `restarting into ${l.restartingInto}${l.dueBy === null ? '' : `, back by ${at(l.dueBy)}`}`;
  return l.status;
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const mb = (b: number) => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${Math.round(b / 1e3)} kB`);
const pct = (n: number | null | undefined) => (n === null || n === undefined ? '-' : `${Math.round(n)}%`);
const hours = (n: number | null | undefined) =>
  n === null || n === undefined ? '-' : n < 48 ? `${n.toFixed(1)} h` : `${(n / 24).toFixed(1)} d`;

export function unitsTable(units: readonly UnitView[], now: number, at: (ts: number) => string): string {
  return table(
    ['ID', 'STATUS', 'SOC', 'TO EMPTY', 'POWER', 'LINK', 'LAST SEEN'],
    units.map((u) => [
      u.id,
      status(u, at),
      pct(u.power?.soc),
      hours(u.outlook?.power.timeToEmptyH),
      u.power?.state ?? '-',
      u.link ? `${CELLULAR_GENERATION[u.link.type] ?? u.link.type} ${u.link.bars}/5` : '-',
      ago(u.lastSeen, now),
    ]),
  );
}

export function unitDetail(u: UnitView, now: number, at: (ts: number) => string): string {
  const rows: [string, string][] = [
    ['unit', u.id],
    ['status', status(u, at)],
    ['last seen', u.lastSeen === null ? 'never' : `${ago(u.lastSeen, now)}  (${at(u.lastSeen)})`],
  ];
  if (u.liveness?.dueBy && u.liveness.status !== 'on-schedule' && u.liveness.status !== 'restarting')
    rows.push(['was due', at(u.liveness.dueBy)]);
  if (u.presence?.agent) rows.push(['agent', `${u.presence.agent}${u.presence.board ? ` on ${u.presence.board}` : ''}`]);
  if (u.running) rows.push(['running', `${u.running.version}  (reported ${at(u.running.ts)})`]);
  if (u.power) {
    const p = u.power;
    rows.push(['battery', `${pct(p.soc)}  ${p.batteryV.toFixed(2)} V${p.batteryTempC === undefined ? '' : `  ${p.batteryTempC} °C`}`]);
    rows.push(['power', `solar ${p.solarW} W  wind ${p.windW} W  load ${p.loadW} W  (${p.state})`]);
    rows.push(['to empty', hours(u.outlook?.power.timeToEmptyH)]);
  }
  if (u.location) {
    const l = u.location;
    const at = positionOf(l);
    const away = u.outlook?.location.distanceM;
    rows.push([
      'location',
      `${at ? `${at.lat.toFixed(5)}, ${at.lon.toFixed(5)}` : 'no position'}  fix ${l.fix}${away == null ? '' : `  ${Math.round(away)} m from site`}`,
    ]);
  }
  if (u.link)
    rows.push(['link', `${CELLULAR_GENERATION[u.link.type] ?? u.link.type}  ${u.link.bars ?? '?'}/5 bars  ${u.link.rssiDbm ?? '?'} dBm`]);
  const d = u.outlook?.link;
  if (d && d.bytesMonth !== null && d.budgetBytes !== null) {
    const spent =
      d.budgetHoursLeft === null ? '' : d.budgetHoursLeft === 0 ? '  OVER BUDGET' : `  budget spent in ${hours(d.budgetHoursLeft)}`;
    rows.push(['data', `${mb(d.bytesMonth)} of ${mb(d.budgetBytes)} this month, ${mb(d.bytesMonthForecast ?? 0)} by month end${spent}`]);
  }
  const c = u.commissioning;
  const later = c && c.pending.length > 0 ? `to judge in daylight: ${c.pending.join(', ')}` : '';
  const verdict = c && (c.passed ? later || 'all checks passed' : `FAILED: ${c.failed.join(', ')}${later && `; ${later}`}`);
  const judged = (c?.judged ?? []).map((j) => `${j.check} judged in daylight ${at(j.at)}: ${j.pass ? 'pass' : 'FAIL'}`).join(', ');
  rows.push(['commissioned', c ? `${verdict}  ${at(c.at)}${judged && `  (${judged})`}` : 'not yet']);
  const w = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

const REASON: Record<AtRisk['reason'], string> = {
  'presumed-out-of-power': 'out of power (presumed)',
  missing: 'missing',
  late: 'late',
  battery: 'battery runs out',
  'data-budget': 'data budget runs out',
};

/** Dark units first, then the soonest to go dark. */
export function atRiskTable(r: { horizonH: number; units: readonly AtRisk[] }): string {
  if (r.units.length === 0) return `no unit at risk in the next ${hours(r.horizonH)}\n`;
  return table(
    ['ID', 'RISK', 'DARK IN', 'SOC', 'TREND'],
    r.units.map((u) => [
      u.id,
      REASON[u.reason],
      u.hoursLeft === 0 ? 'now' : hours(u.hoursLeft),
      pct(u.soc),
      u.socTrendPctH === null ? '-' : `${u.socTrendPctH.toFixed(1)} %/h`,
    ]),
  );
}

/** The checklist as a technician reads it on site: one line per check, the verdict last. */
export function commissioningTable(run: CommissioningRecord): string {
  const rows = run.items.map((i) => [i.check, i.pass ? 'pass' : i.pending ? 'later' : 'FAIL', i.detail]);
  const failed = run.items.filter(commissionFailed).length;
  const pending = run.items.filter((i) => i.pending).map((i) => i.check);
  const later = pending.length > 0 ? `to judge again in daylight: ${pending.join(', ')}` : '';
  const verdict = run.passed
    ? later
      ? `no check failed; ${later}`
      : 'all checks passed'
    : `${failed} of ${run.items.length} checks failed${later && `; ${later}`}`;
  return `${table(['CHECK', 'RESULT', 'DETAIL'], rows)}\n${verdict} (${run.unitId}, run ${run.id})\n`;
}
