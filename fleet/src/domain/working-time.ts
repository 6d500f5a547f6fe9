/**
 * Deadlines in working time on China's official calendar: weekends off, the State Council's public
 * holidays off, and its make-up working days (调休, a Saturday or Sunday worked) on. The lists are
 * data (`calendarFromLists`), loaded by the service from the `chinese-days` package and an
 * operator's file for years the package does not cover yet.
 */

export interface WorkCalendar {
  /** `YYYY-MM-DD` days off that would otherwise be working days. */
  holidays: ReadonlySet<string>;
  /** `YYYY-MM-DD` weekend days that are working days. */
  workdays: ReadonlySet<string>;
  /** Offset of local time from UTC, minutes (China: +480, no daylight saving). */
  offsetMin: number;
  /** Working hours of a working day, local minutes since midnight, in order. */
  hours: readonly { start: number; end: number }[];
  /** Years the holiday lists cover; outside them only weekends count. */
  years: { first: number; last: number };
}

export type Duration = { hours: number } | { workingHours: number } | { workingDays: number };

const DAY = 86_400_000;
const MIN = 60_000;

/** `HH:MM-HH:MM` spans, e.g. `['09:00-12:00', '13:30-17:30']`. */
export function parseWorkingHours(spans: readonly string[]): { start: number; end: number }[] {
  const out = spans.map((s) => {
    const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(s);
    if (!m) throw new Error(`working hours ${JSON.stringify(s)}: expected HH:MM-HH:MM`);
    const [start, end] = [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
    if (!(start < end && end <= 24 * 60)) throw new Error(`working hours ${s}: the span must start before it ends, within a day`);
    return { start, end };
  });
  for (let i = 1; i < out.length; i++)
    if ((out[i]?.start ?? 0) < (out[i - 1]?.end ?? 0)) throw new Error('working hours must be in order and not overlap');
  return out;
}

export function calendarFromLists(lists: {
  holidays: Iterable<string>;
  workdays: Iterable<string>;
  offsetMin: number;
  hours: readonly { start: number; end: number }[];
}): WorkCalendar {
  const holidays = new Set(lists.holidays);
  const workdays = new Set(lists.workdays);
  const years = [...holidays, ...workdays].map((d) => Number(d.slice(0, 4)));
  return {
    holidays,
    workdays,
    offsetMin: lists.offsetMin,
    hours: lists.hours,
    years: { first: Math.min(...years), last: Math.max(...years) },
  };
}

function dateOf(localDay: number): string {
  return new Date(localDay * DAY).toISOString().slice(0, 10);
}

export function isWorkingDay(cal: WorkCalendar, date: string): boolean {
  if (cal.workdays.has(date)) return true;
  if (cal.holidays.has(date)) return false;
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/** Working minutes in one working day. */
export function dayLengthMin(cal: WorkCalendar): number {
  return cal.hours.reduce((a, h) => a + h.end - h.start, 0);
}

/** The instant `d` after `start`, ms: calendar hours as they are, working time on the calendar. */
export function addDuration(cal: WorkCalendar, start: number, d: Duration): number {
  if ('hours' in d) return start + d.hours * 3_600_000;
  const minutes = 'workingHours' in d ? d.workingHours * 60 : d.workingDays * dayLengthMin(cal);
  return addWorkingMinutes(cal, start, minutes);
}

function addWorkingMinutes(cal: WorkCalendar, start: number, minutes: number): number {
  if (dayLengthMin(cal) === 0) throw new Error('a calendar with no working hours has no working time');
  const offset = cal.offsetMin * MIN;
  let left = minutes * MIN;
  let local = start + offset;
  for (;;) {
    const day = Math.floor(local / DAY);
    if (isWorkingDay(cal, dateOf(day))) {
      for (const h of cal.hours) {
        const from = Math.max(local, day * DAY + h.start * MIN);
        const to = day * DAY + h.end * MIN;
        if (from >= to) continue;
        if (to - from >= left) return from + left - offset;
        left -= to - from;
        local = to;
      }
    }
    local = (day + 1) * DAY;
  }
}
