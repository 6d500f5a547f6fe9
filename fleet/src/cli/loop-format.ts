import { shortId } from '../domain/ticket-ref.ts';
import { ago, table } from './format.ts';

/** The alarm console and the ticket queue as a dispatcher reads them at a terminal. */

export interface CliAlarm {
  episode: string;
  unitId: string;
  kind: string;
  severity: string;
  priority: string;
  state: string;
  raisedAt: number;
  late: boolean;
  stale: boolean;
  shelved: boolean;
  inhibitedBy: string | null;
  ticketId: string | null;
}

export interface CliTicket {
  id: string;
  state: string;
  light: string;
  escalated: boolean;
  unitId: string;
  alarmKind: string;
  severity: string;
  grid: { cell: string | null; district: string | null };
  department: string | null;
  dispatcher: string;
  openedAt: number;
  deadlineAt: number;
  rework: number;
  alarmCount: number;
}

export interface CliTimelineEntry {
  at: number;
  action: string;
  from: string | null;
  to: string | null;
  actor: string;
  reason: string | null;
}

const flags = (a: CliAlarm) =>
  [a.late && 'late', a.stale && 'stale', a.shelved && 'shelved', a.inhibitedBy && 'inhibited'].filter(Boolean).join(',') || '-';

export function alarmsTable(alarms: readonly CliAlarm[], now: number): string {
  if (alarms.length === 0) return 'no alarm\n';
  return table(
    ['EPISODE', 'SEVERITY', 'PRIORITY', 'STATE', 'RAISED', 'FLAGS', 'TICKET'],
    alarms.map((a) => [a.episode, a.severity, a.priority, a.state, ago(a.raisedAt, now), flags(a), a.ticketId ? shortId(a.ticketId) : '-']),
  );
}

/** Due in words: how long is left, or how long it has been overdue. */
function due(deadlineAt: number, now: number): string {
  const late = now > deadlineAt;
  const h = Math.abs(deadlineAt - now) / 3_600_000;
  const span = h < 1 ? `${Math.round(h * 60)} min` : h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
  return late ? `${span} OVERDUE` : `in ${span}`;
}

const light = (t: CliTicket) => `${t.light.toUpperCase()}${t.escalated ? ' escalated' : ''}`;

/** Soonest deadline first, as the fleet sends it. */
export function ticketsTable(tickets: readonly CliTicket[], now: number): string {
  if (tickets.length === 0) return 'no ticket\n';
  return table(
    ['TICKET', 'STATE', 'LIGHT', 'DUE', 'UNIT', 'KIND', 'DISTRICT', 'DEPARTMENT'],
    tickets.map((t) => [
      shortId(t.id),
      t.state,
      light(t),
      t.state === 'closed' ? '-' : due(t.deadlineAt, now),
      t.unitId,
      t.alarmKind,
      t.grid.district ?? '-',
      t.department ?? `(dispatcher: ${t.dispatcher})`,
    ]),
  );
}

export function ticketDetail(
  t: CliTicket,
  timeline: readonly CliTimelineEntry[],
  names: Readonly<Record<string, string>>,
  now: number,
  at: (ts: number) => string,
): string {
  // The grid file's name first, the id after it: the id is what --district and the filters take.
  const area = (id: string | null) => (id === null ? '-' : names[id] ? `${names[id]} (${id})` : id);
  const rows: [string, string][] = [
    ['ticket', t.id],
    ['state', `${t.state}  ${light(t)}`],
    ['alarm', `${t.alarmKind} (${t.severity}) on ${t.unitId}, ${t.alarmCount} report${t.alarmCount === 1 ? '' : 's'}`],
    ['where', `cell ${area(t.grid.cell)}, district ${area(t.grid.district)}`],
    ['department', t.department ?? `none yet: the dispatcher (${t.dispatcher}) decides`],
    ['opened', at(t.openedAt)],
    ['deadline', `${at(t.deadlineAt)}  (${t.state === 'closed' ? 'closed' : due(t.deadlineAt, now)})`],
  ];
  if (t.rework > 0) rows.push(['rework', String(t.rework)]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const head = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
  const steps = table(
    ['AT', 'ACTION', 'STATE', 'BY', 'REASON'],
    timeline.map((e) => [at(e.at), e.action, e.to && e.from !== e.to ? `${e.from ?? '-'} → ${e.to}` : '-', e.actor, e.reason ?? '']),
  );
  return `${head}\n\n${steps}`;
}
