import type { CampaignMove } from '../src/domain/rollout-status.ts';
import type { CampaignView } from '../src/domain/rollout-view.ts';
import { explain } from './actions.ts';
import type { Api } from './api.ts';
import { campaignHtml, cell, countsHtml, type FullCampaign } from './campaign-page.ts';
import css from './campaigns.css';
import { confirmWithReason } from './confirm.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import type { AuditEntry, Session } from './model.ts';
import { clock, fleetNow } from './time.ts';

/** While a campaign view is open it is read again on this beat: units report step by step. */
const REFRESH_MS = 3000;

export type OtaRoute = { view: 'campaigns' } | { view: 'campaign'; id: string };

/** `#/campaigns` and `#/campaign/<id>`; null for any other address. */
export function parseOtaRoute(hash: string): OtaRoute | null {
  if (hash === '#/campaigns') return { view: 'campaigns' };
  const m = /^#\/campaign\/([^/]+)$/.exec(hash);
  return m?.[1] ? { view: 'campaign', id: decodeURIComponent(m[1]) } : null;
}

/**
 * The update campaigns views: the list (state, release, units by what they mean) and one
 * campaign's page, read from the API and refreshed while open; pause, resume, abort (and start a
 * draft) after a confirmation, by role — the fleet checks and the page says who may.
 */
export class CampaignViews {
  readonly #root: HTMLElement;
  readonly #api: Api;
  readonly #session: () => Session;
  #route: OtaRoute | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #campaign: FullCampaign | null = null;

  constructor(host: HTMLElement, api: Api, session: () => Session) {
    const style = document.createElement('style');
    style.textContent = css;
    document.head.append(style);
    this.#root = document.createElement('div');
    this.#root.id = 'ota-view';
    this.#root.hidden = true;
    host.append(this.#root);
    this.#api = api;
    this.#session = session;
    this.#root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-move]');
      if (b) void this.#move(b.dataset.move as CampaignMove);
      const row = (e.target as HTMLElement).closest<HTMLElement>('tr[data-campaign]');
      if (row && !(e.target as HTMLElement).closest('a')) location.hash = `#/campaign/${encodeURIComponent(row.dataset.campaign ?? '')}`;
    });
  }

  /** A nav button for the page's tool row. */
  navButton(): HTMLButtonElement {
    const b = document.createElement('button');
    b.type = 'button';
    b.id = 'ota-link';
    b.dataset.i18n = 'ota.nav';
    b.textContent = t('ota.nav');
    b.addEventListener('click', () => {
      location.hash = '#/campaigns';
    });
    return b;
  }

  show(r: OtaRoute | null): void {
    this.#route = r;
    this.#root.hidden = r === null;
    clearInterval(this.#timer);
    if (!r) {
      this.#campaign = null;
      return;
    }
    this.#root.innerHTML = `<p class="dim">${esc(t('ota.loading'))}</p>`;
    void this.#load();
    this.#timer = setInterval(() => void this.#load(), REFRESH_MS);
  }

  relabel(): void {
    if (this.#route) void this.#load();
  }

  async #load(): Promise<void> {
    const r = this.#route;
    if (!r) return;
    try {
      if (r.view === 'campaigns') {
        const { campaigns } = await this.#api.get<{ campaigns: CampaignView[] }>('/api/ota/campaigns');
        if (this.#route === r) this.#root.innerHTML = listHtml(campaigns);
        return;
      }
      const path = `/api/ota/campaigns/${encodeURIComponent(r.id)}`;
      // The history is the audit log: a page whose role reads campaigns reads it too, but a failed
      // read of it must not hide the campaign.
      const [c, history] = await Promise.all([
        this.#api.get<FullCampaign>(path),
        this.#api.get<{ entries: AuditEntry[] }>(`${path}/audit?limit=50`).then(
          (a) => a.entries,
          () => null,
        ),
      ]);
      if (this.#route !== r) return;
      this.#campaign = c;
      // Keep what the last move said across the refresh.
      const said = this.#root.querySelector('.move-result')?.outerHTML;
      this.#root.innerHTML = campaignHtml(c, this.#session(), fleetNow(), history);
      if (said) this.#root.querySelector('.move-result')?.replaceWith(document.createRange().createContextualFragment(said));
    } catch (err) {
      this.#root.innerHTML = `<p class="refused">${esc(explain(err, 'read', this.#session()))}</p>`;
    }
  }

  async #move(m: CampaignMove): Promise<void> {
    const c = this.#campaign;
    if (!c) return;
    const reason = await confirmWithReason(t(`ota.confirm.${m}`, { name: c.name, version: c.version }), t('ota.reason'));
    if (reason === null) return;
    const out = this.#root.querySelector<HTMLElement>('.move-result');
    try {
      await this.#api.post(`/api/ota/campaigns/${encodeURIComponent(c.id)}/${m}`, reason ? { reason } : {});
      if (out) out.textContent = '';
      await this.#load();
    } catch (err) {
      if (out) {
        out.className = 'move-result refused';
        out.textContent = explain(err, 'manage-updates', this.#session());
      }
    }
  }
}

function listHtml(cs: readonly CampaignView[]): string {
  const rows = cs
    .map(
      (c) =>
        `<tr data-campaign="${esc(c.id)}" class="s-${c.state}">${[
          cell(t('ota.col.name'), `<a href="#/campaign/${esc(encodeURIComponent(c.id))}">${esc(c.name)}</a>`),
          cell(t('ota.col.release'), esc(c.version)),
          cell(t('ota.col.state'), `<span class="cstate s-${c.state}">${esc(t(`ota.cstate.${c.state}`))}</span>`),
          cell(t('ota.col.progress'), countsHtml(c.counts), 'wide'),
          cell(t('ota.col.created'), esc(clock(c.createdAt)), 'dim'),
        ].join('\n')}</tr>`,
    )
    .join('');
  return `<div class="campaign-list"><a class="back" href="#/">${esc(t('nav.back'))}</a><h2>${esc(t('ota.title'))}</h2>${
    cs.length === 0
      ? `<p class="dim">${esc(t('ota.none'))}</p>`
      : `<table class="campaigns"><thead><tr><th>${esc(t('ota.col.name'))}</th><th>${esc(t('ota.col.release'))}</th><th>${esc(
          t('ota.col.state'),
        )}</th><th>${esc(t('ota.col.progress'))}</th><th>${esc(t('ota.col.created'))}</th></tr></thead><tbody>${rows}</tbody></table>`
  }</div>`;
}
