import { BUCKETS, type Bucket, CAMPAIGN_MOVES, type CampaignMove, mayMove } from '../src/domain/rollout-status.ts';
import type { CampaignView, UnitView } from '../src/domain/rollout-view.ts';
import { allowed, neededRole } from './actions.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import type { AuditEntry, Session } from './model.ts';
import type { Key } from './strings.ts';
import { ago, clock, span, until } from './time.ts';

/**
 * One campaign as a maintainer and a commander read it: its state (and why it paused), counts by
 * what they mean (waiting is not failing), each wave, and every unit with its step, bytes and ETA;
 * the moves its state allows, each with the role it needs; and its history from the audit log (who
 * created and moved it, refusals included). Markup only: campaigns.ts binds it.
 */
export type FullCampaign = CampaignView & { units: UnitView[] };

const BAD: ReadonlySet<Bucket> = new Set(['failed', 'rolled-back', 'no-report', 'expired']);

export function countsHtml(c: CampaignView['counts']): string {
  const total = BUCKETS.reduce((n, b) => n + c[b], 0) || 1;
  const bar = BUCKETS.filter((b) => c[b] > 0)
    .map((b) => `<span class="seg b-${b}" style="flex:${c[b]}" title="${esc(t(`ota.bucket.${b}`))}: ${c[b]}"></span>`)
    .join('');
  const legend = BUCKETS.filter((b) => c[b] > 0)
    .map((b) => `<span class="chip b-${b}${BAD.has(b) ? ' bad' : ''}">${esc(t(`ota.bucket.${b}`))} <b>${c[b]}</b></span>`)
    .join('');
  return `<div class="ota-bar" role="img" aria-label="${esc(legend.replace(/<[^>]+>/g, ' '))}" data-total="${total}">${bar}</div><div class="ota-legend">${legend}</div>`;
}

function waveName(w: number): string {
  return w === 0 ? t('ota.wave.canary') : t('ota.wave.n', { n: w });
}

function bytes(n: number | null): string {
  if (n === null) return '—';
  return n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1000).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

function progress(u: UnitView): string {
  if (u.totalBytes === null || u.totalBytes === 0) return '—';
  const pct = Math.min(100, Math.round(((u.bytes ?? 0) / u.totalBytes) * 100));
  const kind =
    u.download === 'delta' || u.download === 'full' ? ` <span class="dl-${u.download}">${esc(t(`ota.dl.${u.download}`))}</span>` : '';
  return `<div class="dl"><progress max="100" value="${pct}"></progress> ${bytes(u.bytes)} / ${bytes(u.totalBytes)}${kind}</div>`;
}

function policyText(c: CampaignView): string {
  const p = c.policy;
  return [
    p.allowSatellite ? t('ota.policy.satellite') : t('ota.policy.noSatellite'),
    ...(p.window ? [t('ota.policy.window', { start: p.window.start, end: p.window.end })] : []),
    ...(p.minBatteryPct !== undefined ? [t('ota.policy.battery', { pct: p.minBatteryPct })] : []),
  ].join(' · ');
}

function targetText(c: CampaignView): string {
  const keys = ['tags', 'sites', 'boards', 'cells', 'units'] as const;
  const parts = keys.flatMap((k) => {
    const v = c.target[k];
    return v?.length ? [`${t(`ota.target.${k}`)}: ${v.join(', ')}`] : [];
  });
  return parts.join(' · ') || '—';
}

/** The unit's reason and failed checks in the page's language; the fleet's own words otherwise. */
function detailText(u: UnitView): string {
  if (!u.reason) return u.detail ?? '';
  const reason = `${t(`ota.reason.${u.reason}` as Key)}${u.reason === 'battery' && u.soc !== null ? ` (${Math.round(u.soc)} %)` : ''}`;
  const checks = u.failedChecks.length ? t('ota.checks', { list: u.failedChecks.map((c) => t(`ota.check.${c}` as Key)).join(', ') }) : '';
  return [reason, checks].filter(Boolean).join(' · ');
}

function pausedText(c: CampaignView): string {
  const p = c.pause;
  if (!p) return '';
  return p.by === 'person'
    ? `${t('ota.pausedBy', { who: `${p.who} · ${t(`role.${p.role}` as Key)}` })}${p.reason ? ` · ${t('ota.reasonGiven', { reason: p.reason })}` : ''}`
    : t('ota.pausedFailures', { failures: p.failures, released: p.released, pct: p.thresholdPct });
}

function movesHtml(c: CampaignView, session: Session): string {
  return (Object.keys(CAMPAIGN_MOVES) as CampaignMove[])
    .filter((m) => mayMove(c.state, m))
    .map((m) => {
      const ok = allowed(session, 'manage-updates');
      const needs = ok ? '' : ` <small>${esc(t('ota.needs', { role: t(`role.${neededRole('manage-updates')}`) }))}</small>`;
      return `<button type="button" data-move="${m}" class="${m === 'abort' ? 'danger' : m === 'start' || m === 'resume' ? 'primary' : ''}${ok ? '' : ' not-allowed'}">${esc(t(`ota.move.${m}`))}${needs}</button>`;
    })
    .join('');
}

/**
 * A table cell whose content is one element: on a phone each row becomes a two-column grid of
 * label and value (campaigns.css), which takes every child of a cell as its own grid item.
 */
export function cell(label: string, html: string, cls = ''): string {
  return `<td data-label="${esc(label)}"${cls ? ` class="${cls}"` : ''}><div class="v">${html}</div></td>`;
}

function unitRow(u: UnitView, now: number): string {
  const id = esc(u.unitId);
  const reach = u.reach === 'online' ? '' : ` <span class="reach">${esc(t(`ota.reach.${u.reach}`))}</span>`;
  return `<tr data-unit="${id}" class="b-${u.bucket}">${[
    cell(t('ota.col.unit'), `<a href="#/unit/${id}">${id}</a>${reach}`),
    cell(t('ota.col.wave'), esc(waveName(u.wave))),
    cell(t('ota.col.step'), `<span class="chip b-${u.bucket}">${esc(t(`ota.ustate.${u.state}` as Key))}</span>`),
    cell(t('ota.col.download'), progress(u)),
    cell(t('ota.col.eta'), u.etaS === null ? '—' : esc(span(u.etaS * 1000))),
    cell(t('ota.col.detail'), esc(detailText(u)), 'detail'),
    cell(t('ota.col.updated'), esc(ago(u.updatedAt, now)), 'dim'),
  ].join('\n')}</tr>`;
}

const AUDITED = new Set(['create-campaign', 'start-campaign', 'pause-campaign', 'resume-campaign', 'abort-campaign']);

/** Newest first, as the fleet answers: when (the fleet's zone), who with their role, what, how it ended, why. */
function historyHtml(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return `<li class="dim">${esc(t('ota.history.none'))}</li>`;
  return entries
    .map((e) => {
      const ok = e.result === 'ok';
      const who = e.actorId === 'bootstrap' ? t('role.bootstrap') : e.actor;
      const what = AUDITED.has(e.action) ? t(`ota.history.${e.action}` as Key) : e.action;
      const outcome = ok ? '' : ` → <span class="result">${esc(t('ota.history.refused', { code: e.result }))}</span>`;
      const why = e.message ? ` <q>${esc(e.message)}</q>` : '';
      return `<li class="${ok ? 'ok' : 'refused'}" data-action="${esc(e.action)}"><time>${esc(clock(e.at))}</time> <b>${esc(who)}</b> <span class="dim">(${esc(
        t(`role.${e.role}` as Key),
      )})</span> ${esc(what)}${outcome}${why}</li>`;
    })
    .join('');
}

/** Whether a wave went, and for the next one when it goes (or why it does not). */
function waveWhen(c: CampaignView, wave: number, released: boolean, now: number): string {
  if (released) return t('ota.wave.released');
  if (wave !== c.releasedWave + 1) return t('ota.wave.notYet');
  if (c.state === 'paused') return t('ota.wave.held');
  return c.nextWaveAt === null ? t('ota.wave.notYet') : t('ota.wave.next', { at: clock(c.nextWaveAt), until: until(c.nextWaveAt, now) });
}

export function campaignHtml(c: FullCampaign, session: Session, now: number, history: readonly AuditEntry[] | null): string {
  const times = [
    t('ota.createdBy', { at: clock(c.createdAt), who: c.createdBy }),
    ...(c.startedAt ? [t('ota.startedAt', { at: clock(c.startedAt) })] : []),
    c.deadlineAt
      ? t('ota.deadline', { at: clock(c.deadlineAt), until: until(c.deadlineAt, now) })
      : t('ota.deadlineDraft', { h: span(c.deadlineH * 3_600_000) }),
    ...(c.finishedAt ? [t('ota.finishedAt', { at: clock(c.finishedAt) })] : []),
  ];
  const waves = c.waveSummary
    .map(
      (w) =>
        `<tr class="${w.released ? 'released' : 'later'}"><th scope="row">${esc(waveName(w.wave))}</th><td>${w.units}</td><td>${esc(
          waveWhen(c, w.wave, w.released, now),
        )}</td><td>${countsHtml(w.counts)}</td></tr>`,
    )
    .join('');
  const full = c.downloads.full > 0 ? `<p class="warn">${esc(t('ota.downloadsFull', { full: c.downloads.full }))}</p>` : '';
  return `<div class="campaign-page" data-state="${c.state}">
<a class="back" href="#/campaigns">${esc(t('ota.back'))}</a>
<h2>${esc(c.name)} <span class="cstate s-${c.state}">${esc(t(`ota.cstate.${c.state}`))}</span></h2>
<p class="meta">${esc(t('ota.release', { version: c.version }))} · ${times.map(esc).join(' · ')}</p>
${c.pause ? `<p class="paused" role="status">${esc(pausedText(c))}</p>` : ''}
<div class="moves">${movesHtml(c, session)}</div>
<p class="move-result" aria-live="polite"></p>
<section class="ota-counts">${countsHtml(c.counts)}
<p class="dim">${esc(t('ota.downloads', { delta: c.downloads.delta, full: c.downloads.full }))} · ${esc(
    t('ota.threshold', { pct: Math.round(c.failureThreshold * 100) }),
  )} · ${esc(t('ota.soak', { soak: span(c.soakS * 1000) }))}</p>${full}
<p class="dim">${esc(t('ota.target'))}: ${esc(targetText(c))} · ${esc(t('ota.policy'))}: ${esc(policyText(c))}</p></section>
<section><h3>${esc(t('ota.waves'))}</h3><table class="waves"><tbody>${waves}</tbody></table></section>
<section><h3>${esc(t('ota.units'))} <span class="count">${c.units.length}</span></h3>
<table class="ota-units"><thead><tr><th>${esc(t('ota.col.unit'))}</th><th>${esc(t('ota.col.wave'))}</th><th>${esc(t('ota.col.step'))}</th><th>${esc(
    t('ota.col.download'),
  )}</th><th>${esc(t('ota.col.eta'))}</th><th>${esc(t('ota.col.detail'))}</th><th>${esc(t('ota.col.updated'))}</th></tr></thead>
<tbody>${c.units.map((u) => unitRow(u, now)).join('')}</tbody></table></section>
<section class="ota-history"><h3>${esc(t('ota.history'))}</h3><ol class="audit-list">${
    history === null ? `<li class="refused">${esc(t('ota.history.unread'))}</li>` : historyHtml(history)
  }</ol></section>
</div>`;
}
