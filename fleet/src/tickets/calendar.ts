import { createRequire } from 'node:module';
import { calendarFromLists, parseWorkingHours, type WorkCalendar } from '../domain/working-time.ts';
import { readJsonFile } from '../json-file.ts';

/** The `chinese-days` data file and an operator's file share one shape: days → a label. */
interface DayLists {
  holidays?: Record<string, string>;
  workdays?: Record<string, string>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function readLists(path: string): DayLists {
  const raw = readJsonFile(path, 'holiday list');
  const lists = raw as DayLists;
  for (const key of ['holidays', 'workdays'] as const) {
    const v = lists[key];
    if (v === undefined) continue;
    if (typeof v !== 'object' || v === null) throw new Error(`${path}: ${key} must be an object of YYYY-MM-DD → label`);
    for (const d of Object.keys(v)) if (!DAY.test(d)) throw new Error(`${path}: ${key}.${d} is not a YYYY-MM-DD date`);
  }
  return lists;
}

/**
 * China's official working calendar: the State Council's holidays and make-up working days from
 * the `chinese-days` package (2004 to the latest year it ships), plus `extraFile` — the same shape,
 * `{ "holidays": { "2027-01-01": "…" }, "workdays": { … } }` — for a year published after the
 * package, which an operator adds each year. A day listed in both lists is a working day.
 */
export function loadChinaCalendar(o: { extraFile: string; workingHours: readonly string[]; offsetMin: number }): WorkCalendar {
  const pkg = createRequire(import.meta.url).resolve('chinese-days/dist/chinese-days.json');
  const base = readLists(pkg);
  const extra = o.extraFile ? readLists(o.extraFile) : {};
  return calendarFromLists({
    holidays: [...Object.keys(base.holidays ?? {}), ...Object.keys(extra.holidays ?? {})],
    workdays: [...Object.keys(base.workdays ?? {}), ...Object.keys(extra.workdays ?? {})],
    offsetMin: o.offsetMin,
    hours: parseWorkingHours(o.workingHours),
  });
}
