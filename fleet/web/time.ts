import { lang, t } from './i18n.ts';

/**
 * Times as people at the scene read them: clock times in the fleet's time zone (Asia/Shanghai by
 * default, whatever the browser's), and ages and deadlines as "4 min ago" / "in 5 h".
 */
let zone = 'Asia/Shanghai';
const formats = new Map<string, Intl.DateTimeFormat>();
/** The fleet's clock as last sent: its now at our `performance.now()` of that moment, and its rate. */
let fleet = { now: Date.now(), at: performance.now(), scale: 1 };

/**
 * Ages and deadlines count from the fleet's now, never the browser's: the browser's clock may be
 * off, and under `--time-scale` the fleet's runs faster than any wall clock.
 */
export function setFleetClock(c: { now: number; scale: number }): void {
  fleet = { now: c.now, at: performance.now(), scale: c.scale };
}

export function fleetNow(): number {
  return Math.round(fleet.now + (performance.now() - fleet.at) * fleet.scale);
}

export function setTimeZone(tz: string): void {
  zone = tz;
  formats.clear();
}

export function timeZone(): string {
  return zone;
}

/** "11-23 11:05" in the fleet's zone (the year is implied at a scene; the zone is shown once in the header). */
export function clock(ts: number): string {
  const key = lang();
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(key, {
      timeZone: zone,
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(key, f);
  }
  return f.format(ts);
}

export function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('time.s', { n: s });
  if (s < 3600) return t('time.min', { n: Math.round(s / 60) });
  if (s < 48 * 3600) return t('time.h', { n: Math.round(s / 3600) });
  return t('time.d', { n: Math.round(s / 86_400) });
}

export function ago(ts: number | null, now: number): string {
  return ts === null ? t('time.never') : t('time.ago', { span: span(now - ts) });
}

export function until(ts: number, now: number): string {
  const d = ts - now;
  return d >= 0 ? t('time.in', { span: span(d) }) : t('time.overdue', { span: span(-d) });
}

export function hours(h: number | null): string {
  if (h === null) return '—';
  return span(h * 3_600_000);
}
