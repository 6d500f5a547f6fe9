import { type DeadLetter, type DeadLetters as DeadLetterList, FLOWS_ROUTES, retryPath } from '@shouwang/protocol';
import { allowed, explain } from './actions.ts';
import type { Api } from './api.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import type { Session } from './model.ts';
import type { Key } from './strings.ts';
import { clock } from './time.ts';

/** Seen while open: a dead letter appears when a flow settles it, so the list is read again on this beat. */
const REFRESH_MS = 10_000;

const CSS = `
#dead-letters-view { display: flex; flex-direction: column; gap: 10px; }
#dead-letters-view[hidden] { display: none; }
.dead-letters table { border-collapse: collapse; width: 100%; font-size: 13px; }
.dead-letters th, .dead-letters td.when { white-space: nowrap; }
.dead-letters th, .dead-letters td { text-align: left; vertical-align: top; padding: 6px 4px; border-bottom: 1px solid #2c3640; }
.dead-letters td.reason { word-break: break-word; font-family: ui-monospace, monospace; font-size: 12px; }
.dead-letters td.retry { white-space: nowrap; }
.dead-letters .outcome { color: #7fd48a; }
.dead-letters .outcome.refused { color: #ff8a80; }
.dead-letters h2 .count { font-weight: normal; opacity: 0.6; }
`;

/**
 * The dead-letter list (#/dead-letters): what the city's systems refused, with their answer, the
 * ticket and a retry for a dispatcher (the fleet checks the role again). Mounts its own container
 * and its entry in the list view's tools, so the page's layout stays the shell's.
 */
export class DeadLetters {
  readonly #root: HTMLElement;
  readonly #api: Api;
  readonly #session: () => Session;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The last retry's outcome, shown under the title (a retried row leaves the list at once). */
  #flash: { text: string; refused: boolean } | undefined;

  constructor(side: HTMLElement, tools: HTMLElement | null, api: Api, session: () => Session) {
    this.#api = api;
    this.#session = session;
    const style = document.createElement('style');
    style.textContent = CSS;
    document.head.append(style);
    this.#root = document.createElement('div');
    this.#root.id = 'dead-letters-view';
    this.#root.hidden = true;
    side.append(this.#root);
    const link = document.createElement('button');
    link.type = 'button';
    link.id = 'dead-letters-link';
    link.dataset.i18n = 'flows.nav';
    link.textContent = t('flows.nav');
    link.addEventListener('click', () => {
      location.hash = '#/dead-letters';
    });
    tools?.append(link);
    this.#root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-retry]');
      if (b) void this.#retry(Number(b.dataset.retry), b);
    });
  }

  show(open: boolean): void {
    this.#root.hidden = !open;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!open) return;
    void this.#load();
    this.#timer = setInterval(() => void this.#load(), REFRESH_MS);
  }

  /** After a language change, while open. */
  refresh(): void {
    if (!this.#root.hidden) void this.#load();
  }

  async #load(): Promise<void> {
    try {
      const { deadLetters } = await this.#api.get<DeadLetterList>(FLOWS_ROUTES.deadLetters);
      this.#render(deadLetters);
    } catch (err) {
      this.#root.innerHTML = `<section class="dead-letters"><a class="back" href="#/">${t('nav.back')}</a><p class="outcome refused">${esc(
        t('flows.loadFailed', { message: (err as Error).message }),
      )}</p></section>`;
    }
  }

  #render(list: DeadLetter[]): void {
    const canRetry = allowed(this.#session(), 'dispatch');
    const row = (d: DeadLetter) => {
      const target = d.target === '12345' || d.target === 'open311' ? t(`flows.target.${d.target}`) : (d.target ?? '—');
      return `<tr data-seq="${d.seq}">
  <td class="when">${d.settledAt ? esc(clock(d.settledAt)) : '—'}</td>
  <td>${esc(target)}</td>
  <td>${esc(t(`flows.type.${d.type}` as Key, { action: d.action }))}</td>
  <td><a href="#/ticket/${encodeURIComponent(d.ticketId)}" title="${esc(d.ticketId)}">${esc(d.ticketId.slice(0, 8))}</a></td>
  <td class="reason">${esc(d.reason ?? '—')}</td>
  <td>${d.attempts}</td>
  <td class="retry">${canRetry ? `<button type="button" data-retry="${d.seq}">${t('flows.retry')}</button>` : ''}</td>
</tr>`;
    };
    this.#root.innerHTML = `<section class="dead-letters">
<a class="back" href="#/">${t('nav.back')}</a>
<h2>${t('flows.title')} <span class="count">${esc(t('flows.count', { n: list.length }))}</span></h2>
<p class="dim">${esc(t('flows.help'))}</p>
${this.#flash ? `<p class="outcome${this.#flash.refused ? ' refused' : ''}" aria-live="polite">${esc(this.#flash.text)}</p>` : ''}
${
  list.length === 0
    ? `<p class="none">${esc(t('flows.none'))}</p>`
    : `<table><thead><tr><th>${t('flows.when')}</th><th>${t('flows.target')}</th><th>${t('flows.event')}</th><th>${t('flows.ticket')}</th><th>${t(
        'flows.reason',
      )}</th><th>${t('flows.tries')}</th><th></th></tr></thead><tbody>${list.map(row).join('')}</tbody></table>`
}
${canRetry ? '' : `<p class="dim">${esc(t('flows.needsDispatcher'))}</p>`}
</section>`;
  }

  async #retry(seq: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    button.textContent = t('flows.retrying');
    try {
      await this.#api.post(retryPath(seq));
      this.#flash = { text: `#${seq}: ${t('flows.retried')}`, refused: false };
    } catch (err) {
      this.#flash = { text: `#${seq}: ${explain(err, 'dispatch', this.#session())}`, refused: true };
    }
    await this.#load();
  }
}
