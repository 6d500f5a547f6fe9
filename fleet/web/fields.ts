import { CELLULAR_GENERATION, type CommissionCheck, type LinkType, positionOf } from '@shouwang/protocol';
import { CRITICAL_SOC, LOW_SOC } from './condition.ts';
import { t } from './i18n.ts';
import type { Row } from './model.ts';
import { ago, clock, hours, until } from './time.ts';

/**
 * What a unit card (and the unit's page) says, field by field, as plain text and a class: the
 * card patches only the fields whose text changed, so a reading updates two nodes, not a card.
 */
/** Fields shown as a labelled list, in order; site, grid, liveness, standing alarms and the bar sit in the head. */
export const LISTED = ['soc', 'rung', 'harvest', 'tte', 'link', 'data', 'place', 'commissioned', 'version', 'seen', 'next'] as const;
export const FIELDS = ['site', 'grid', 'liveness', 'alarm', 'bar', ...LISTED] as const;
export type FieldName = (typeof FIELDS)[number];
export interface Field {
  text: string;
  cls: string;
}
export type Fields = Record<FieldName, Field>;

export interface FieldContext {
  now: number;
  siteRadiusM: number;
}

const f = (text: string, cls = ''): Field => ({ text, cls });

/** The node's class: liveness and a standing alarm are badges (an empty alarm is no badge). */
export function fieldClass(name: FieldName, cls: string): string {
  return name === 'liveness' || (name === 'alarm' && cls) ? `badge ${cls}` : cls;
}

function megabytes(b: number): string {
  return b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${Math.round(b / 1e3)} kB`;
}

function bars(n: number): string {
  return `${'▮'.repeat(n)}${'▯'.repeat(5 - n)}`;
}

/** The link as people name it: 4G, 5G, satellite. */
export function linkType(type: string): string {
  return CELLULAR_GENERATION[type as LinkType] ?? (type === 'satellite' ? t('link.satellite') : t('link.none'));
}

export function unitFields(row: Row, ctx: FieldContext): Fields {
  const u = row.view;
  const reg = row.reg;
  const now = ctx.now;
  const site = f(reg?.site?.name ?? t('card.noSite'), reg?.site?.name ? '' : 'dim');
  // The cell its tickets are routed to, so the card and the ticket name the same one.
  const grid = f(row.cell ? t('card.grid', { cell: row.cell }) : '', 'dim');
  if (!u) {
    const never = f('—', 'dim');
    const status =
      reg?.status === 'awaiting-claim'
        ? t('status.awaiting-claim')
        : reg?.status === 'active'
          ? t('status.claimed')
          : t('status.never-heard');
    return {
      site,
      grid,
      liveness: f(status, 'unheard'),
      alarm: f('', ''),
      soc: never,
      bar: f('', ''),
      rung: never,
      harvest: never,
      tte: never,
      link: never,
      data: never,
      place: never,
      commissioned: f(t('card.notCommissioned'), 'dim'),
      version: never,
      seen: f(t('time.never'), 'dim'),
      next: never,
    };
  }
  const p = u.power;
  const l = u.outlook.link;
  const loc = u.outlook.location;
  const pos = u.location ? positionOf(u.location) : undefined;
  const c = u.commissioning;
  const over = l.budgetHoursLeft !== null;
  const level = p ? (p.soc < CRITICAL_SOC ? 'critical' : p.soc < LOW_SOC ? 'low' : '') : '';
  const trend = u.liveness.socTrendPctH;
  const distance =
    loc.distanceM === null
      ? ''
      : loc.distanceM <= ctx.siteRadiusM
        ? t('place.atSite')
        : loc.distanceM < 1000
          ? t('place.fromSite', { d: `${Math.round(loc.distanceM)} m` })
          : t('place.fromSite', { d: `${(loc.distanceM / 1000).toFixed(2)} km` });
  return {
    site,
    grid,
    liveness: f(t(`liveness.${u.liveness.status}`, { version: u.liveness.restartingInto ?? '' }), u.liveness.status),
    alarm: u.alarms
      ? f(t('card.alarms', { n: u.alarms.count, severity: t(`overlay.sev.${u.alarms.severity}`) }), `alarm sev-${u.alarms.severity}`)
      : f('', ''),
    soc: p ? f(`${p.soc.toFixed(0)} % · ${p.batteryV.toFixed(2)} V · ${ago(p.ts, now)}`, level) : f('—', 'dim'),
    bar: f(p ? p.soc.toFixed(0) : '', level),
    rung: p ? f(t(`rung.${p.state}`), `rung-${p.state}`) : f('—', 'dim'),
    harvest: p ? f(`☀ ${p.solarW.toFixed(1)} W · ≋ ${p.windW.toFixed(1)} W · ${t('card.load')} ${p.loadW.toFixed(1)} W`) : f('—', 'dim'),
    tte: f(
      `${hours(u.outlook.power.timeToEmptyH)}${trend === null ? '' : ` (${trend > 0 ? '+' : ''}${trend.toFixed(1)} %/h)`}`,
      u.outlook.power.timeToEmptyH !== null && u.outlook.power.timeToEmptyH < 48 ? 'low' : '',
    ),
    link: u.link
      ? f(`${linkType(u.link.type)} ${bars(u.link.bars ?? 0)} ${u.link.rssiDbm ?? '?'} dBm · ${ago(u.link.ts, now)}`)
      : f('—', 'dim'),
    data:
      l.bytesMonth === null || l.budgetBytes === null
        ? f('—', 'dim')
        : f(
            `${t('data.of', { used: megabytes(l.bytesMonth), budget: megabytes(l.budgetBytes) })}${
              l.bytesMonthForecast !== null ? ` · ${t('data.monthEnd', { mb: megabytes(l.bytesMonthForecast) })}` : ''
            }${over ? ` · ${t('data.over')}` : ''}`,
            over ? 'over' : '',
          ),
    place:
      pos && u.location
        ? f(
            `${distance || `${pos.lat.toFixed(4)}, ${pos.lon.toFixed(4)}`}${loc.moving ? ` · ${t('place.moving')}` : ''} · ${ago(u.location.ts, now)}`,
            loc.moving ? 'moving' : '',
          )
        : f('—', 'dim'),
    commissioned: c
      ? f(
          `${commissioningVerdict(c.passed, c.failed, c.pending)} · ${clock(c.at)}${judgedNote(c.judged ?? [])}`,
          c.passed ? (c.pending.length > 0 ? 'pending' : 'pass') : 'fail',
        )
      : f(t('card.notCommissioned'), 'dim'),
    // What its updates report running; before any, what it said at connect.
    version: u.running ? f(`${u.running.version} · ${ago(u.running.ts, now)}`) : u.presence?.agent ? f(u.presence.agent) : f('—', 'dim'),
    seen: f(ago(u.lastSeen, now)),
    next:
      u.liveness.dueBy !== null
        ? f(`${until(u.liveness.dueBy, now)} · ${clock(u.liveness.dueBy)}`, u.liveness.dueBy < now ? 'late' : '')
        : u.online
          ? f(t('next.connected'))
          : f('—', 'dim'),
  };
}

/** What the unit judged by itself after the run (the charge at first light), and when; '' when nothing was. */
export function judgedNote(judged: readonly { check: CommissionCheck; at: number }[]): string {
  if (judged.length === 0) return '';
  const checks = judged.map((j) => t(`check.${j.check}`)).join(', ');
  return ` · ${t('comm.judged', { checks, at: clock(Math.max(...judged.map((j) => j.at))) })}`;
}

/** A run's verdict in one line: passed, what failed, and what is left for daylight. */
export function commissioningVerdict(passed: boolean, failed: readonly CommissionCheck[], pending: readonly CommissionCheck[]): string {
  const names = (checks: readonly CommissionCheck[]) => checks.map((k) => t(`check.${k}`)).join(', ');
  const later = pending.length > 0 ? t('comm.later', { checks: names(pending) }) : '';
  if (!passed) return `${t('comm.failed', { checks: names(failed) })}${later && ` · ${later}`}`;
  return later || t('comm.passed');
}
