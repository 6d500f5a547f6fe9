/**
 * The figures a district is judged on, computed from the ticket event log alone, for the tickets
 * opened in a period, grouped by grid level or department:
 *
 * - sign-for rate (签收率): dispatched tickets a department signed for;
 * - on-time close rate (按期办结率): tickets closed by their deadline, over tickets that were due
 *   (closed, or still open past the deadline at the period's end);
 * - overdue: closed late or still open past the deadline;
 * - rework rate: tickets reopened after unsatisfied feedback, over tickets that reached feedback;
 * - satisfaction: satisfied reviews (close) over all reviews (close or reopen);
 * - merged repeats: alarms merged into an already open ticket; alarms per ticket;
 * - median time to sign for and to close.
 */

export const KPI_LEVELS = ['all', 'cell', 'community', 'street', 'district', 'department'] as const;
export type KpiLevel = (typeof KPI_LEVELS)[number];

export interface KpiTicket {
  id: string;
  cell: string | null;
  community: string | null;
  street: string | null;
  district: string | null;
  department: string;
  openedAt: number;
  deadlineAt: number;
  alarmCount: number;
}

export interface KpiEvent {
  ticketId: string;
  at: number;
  action: string;
}

export interface Kpis {
  key: string;
  tickets: number;
  signForRate: number | null;
  onTimeCloseRate: number | null;
  overdue: number;
  reworkRate: number | null;
  satisfaction: number | null;
  mergedRepeats: number;
  alarmsPerTicket: number | null;
  medianSignMs: number | null;
  medianCloseMs: number | null;
}

interface Life {
  dispatched: boolean;
  signedAt: number | null;
  closedAt: number | null;
  feedback: boolean;
  reopened: boolean;
  satisfied: number;
  reviews: number;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? (xs[m] as number) : ((xs[m - 1] as number) + (xs[m] as number)) / 2;
}

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);

export function computeKpis(
  tickets: readonly KpiTicket[],
  events: readonly KpiEvent[],
  period: { from: number; to: number },
  level: KpiLevel,
): Kpis[] {
  const lives = new Map<string, Life>();
  for (const t of tickets)
    if (t.openedAt >= period.from && t.openedAt < period.to)
      lives.set(t.id, { dispatched: false, signedAt: null, closedAt: null, feedback: false, reopened: false, satisfied: 0, reviews: 0 });
  for (const e of events) {
    const l = lives.get(e.ticketId);
    if (!l || e.at >= period.to) continue;
    switch (e.action) {
      case 'dispatch':
        l.dispatched = true;
        break;
      case 'sign':
        l.signedAt ??= e.at;
        break;
      case 'feedback':
        l.feedback = true;
        break;
      case 'close':
        l.closedAt = e.at;
        l.satisfied++;
        l.reviews++;
        break;
      case 'reopen':
        l.closedAt = null;
        l.reopened = true;
        l.reviews++;
        break;
    }
  }
  const groups = new Map<string, { t: KpiTicket; l: Life }[]>();
  for (const t of tickets) {
    const l = lives.get(t.id);
    if (!l) continue;
    const key = level === 'all' ? 'all' : (t[level] ?? '(none)');
    const g = groups.get(key);
    if (g) g.push({ t, l });
    else groups.set(key, [{ t, l }]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => {
      let dispatched = 0;
      let signed = 0;
      let due = 0;
      let onTime = 0;
      let overdue = 0;
      let feedback = 0;
      let rework = 0;
      let satisfied = 0;
      let reviews = 0;
      let alarms = 0;
      const toSign: number[] = [];
      const toClose: number[] = [];
      for (const { t, l } of g) {
        alarms += t.alarmCount;
        if (l.dispatched) dispatched++;
        if (l.dispatched && l.signedAt !== null) signed++;
        if (l.signedAt !== null) toSign.push(l.signedAt - t.openedAt);
        if (l.closedAt !== null) {
          due++;
          toClose.push(l.closedAt - t.openedAt);
          if (l.closedAt <= t.deadlineAt) onTime++;
          else overdue++;
        } else if (t.deadlineAt < period.to) {
          due++;
          overdue++;
        }
        if (l.feedback) feedback++;
        if (l.reopened) rework++;
        satisfied += l.satisfied;
        reviews += l.reviews;
      }
      return {
        key,
        tickets: g.length,
        signForRate: ratio(signed, dispatched),
        onTimeCloseRate: ratio(onTime, due),
        overdue,
        reworkRate: ratio(rework, feedback),
        satisfaction: ratio(satisfied, reviews),
        mergedRepeats: alarms - g.length,
        alarmsPerTicket: ratio(alarms, g.length),
        medianSignMs: median(toSign),
        medianCloseMs: median(toClose),
      };
    });
}
