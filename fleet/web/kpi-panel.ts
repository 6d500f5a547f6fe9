import { KPI_LEVELS, type Kpis } from '../src/domain/kpi.ts';
import type { Api } from './api.ts';
import { areaName, learnNames } from './area-names.ts';
import { barChart } from './bar-chart.ts';
import type { FleetClock } from './fleet-clock.ts';
import { esc } from './html.ts';
import { t, translateStatic } from './i18n.ts';
import type { KpiAnswer } from './loop-model.ts';
import type { Key } from './strings.ts';
import { clock, span } from './time.ts';

export interface KpiPanelDeps {
  api: Api;
  clock: FleetClock;
}

const PERIODS = [7, 30, 90, 365] as const;
/** Groups drawn as bars (the most tickets first); the table lists every group. */
const CHART_GROUPS = 20;
const RATES = ['signForRate', 'onTimeCloseRate', 'reworkRate', 'satisfaction'] as const;
const COUNTS = ['overdue', 'mergedRepeats'] as const;

/**
 * The figures a district is judged on, for tickets opened in the last N days by the fleet's clock,
 * grouped by a grid level or by department: the four rates and the two counts as bars, every
 * figure (medians and alarms per ticket too) in the table under them. The choice is in the address
 * (`#/kpis?days=30&level=street`).
 */
export class KpiPanel {
  readonly #root: HTMLElement;
  readonly #deps: KpiPanelDeps;
  readonly #form: HTMLFormElement;
  readonly #out: HTMLElement;
  #query = new URLSearchParams();
  #last: KpiAnswer | null = null;

  constructor(root: HTMLElement, deps: KpiPanelDeps) {
    this.#root = root;
    this.#deps = deps;
    root.classList.add('kpi-panel');
    root.innerHTML = `<div class="console-head"><h2 data-i18n="kpi.title"></h2></div>
<form class="kpi-filters">
<label><span data-i18n="kpi.period"></span><select name="days"></select></label>
<label><span data-i18n="kpi.level"></span><select name="level">${KPI_LEVELS.map((l) => `<option value="${l}" data-i18n="level.${l}"></option>`).join('')}</select></label>
</form>
<div class="kpi-out" aria-live="polite"></div>`;
    this.#form = root.querySelector('form') as HTMLFormElement;
    this.#out = root.querySelector('.kpi-out') as HTMLElement;
    translateStatic(root);
    this.#form.addEventListener('change', () => {
      const data = new FormData(this.#form);
      location.hash = `#/kpis?${new URLSearchParams({ days: String(data.get('days')), level: String(data.get('level')) })}`;
    });
  }

  open(query: URLSearchParams): void {
    this.#query = query;
    this.#root.hidden = false;
    this.#fillForm();
    void this.#load();
  }

  close(): void {
    this.#root.hidden = true;
  }

  relabel(): void {
    this.#fillForm();
    if (this.#last) this.#draw(this.#last);
  }

  #days(): number {
    const d = Number(this.#query.get('days'));
    return (PERIODS as readonly number[]).includes(d) ? d : 30;
  }

  #level(): string {
    const l = this.#query.get('level') ?? '';
    return (KPI_LEVELS as readonly string[]).includes(l) ? l : 'district';
  }

  #fillForm(): void {
    const days = this.#form.elements.namedItem('days') as HTMLSelectElement;
    days.innerHTML = PERIODS.map((n) => `<option value="${n}">${esc(t('kpi.days', { n }))}</option>`).join('');
    days.value = String(this.#days());
    (this.#form.elements.namedItem('level') as HTMLSelectElement).value = this.#level();
  }

  async #load(): Promise<void> {
    try {
      // The period ends at the fleet's clock; ask its time first if no answer has told it yet.
      if (!this.#deps.clock.synced) this.#deps.clock.sync((await this.#deps.api.get<{ now: number }>('/api/tickets?limit=1')).now);
      const from = Math.max(0, Math.floor(this.#deps.clock.now() - this.#days() * 86_400_000));
      const answer = await this.#deps.api.get<KpiAnswer>(`/api/kpis?${new URLSearchParams({ from: String(from), level: this.#level() })}`);
      this.#deps.clock.sync(answer.to);
      learnNames(answer.names);
      this.#last = answer;
      this.#draw(answer);
    } catch (err) {
      this.#out.innerHTML = `<p class="refused">${esc(t('loop.loadFailed', { message: (err as Error).message }))}</p>`;
    }
  }

  #draw(a: KpiAnswer): void {
    const levelName = t(`level.${a.level}` as Key);
    const period = `<p class="dim">${esc(clock(a.from))} – ${esc(clock(a.to))}</p>`;
    if (a.kpis.length === 0) {
      this.#out.innerHTML = `${period}<p class="dim">${esc(t('kpi.none'))}</p>`;
      return;
    }
    const top = [...a.kpis].sort((x, y) => y.tickets - x.tickets || (x.key < y.key ? -1 : 1)).slice(0, CHART_GROUPS);
    const pct = (v: number) => `${Math.round(v * 100)} %`;
    const rates = barChart(
      t('kpi.rates', { level: levelName }),
      RATES.map((k) => ({ cls: k, label: t(`kpi.${k}`) })),
      top.map((k) => ({ label: groupName(k.key), values: RATES.map((r) => k[r]) })),
      { max: 1, format: pct, none: t('kpi.noValue') },
    );
    const maxCount = Math.max(1, ...top.flatMap((k) => COUNTS.map((c) => k[c])));
    const counts = barChart(
      t('kpi.counts', { level: levelName }),
      COUNTS.map((k) => ({ cls: k, label: t(`kpi.${k}`) })),
      top.map((k) => ({ label: groupName(k.key), values: COUNTS.map((c) => k[c]) })),
      { max: maxCount, format: String, none: t('kpi.noValue') },
    );
    const cell = (v: number | null, f: (x: number) => string) => (v === null ? '—' : f(v));
    const head = [
      'kpi.key',
      'kpi.tickets',
      ...RATES.map((r) => `kpi.${r}`),
      ...COUNTS.map((c) => `kpi.${c}`),
      'kpi.alarmsPerTicket',
      'kpi.medianSign',
      'kpi.medianClose',
    ] as Key[];
    const row = (k: Kpis) =>
      `<tr data-key="${esc(k.key)}"><th>${esc(groupName(k.key))}</th><td>${k.tickets}</td>${RATES.map((r) => `<td data-kpi="${r}">${cell(k[r], pct)}</td>`).join('')}${COUNTS.map(
        (c) => `<td data-kpi="${c}">${k[c]}</td>`,
      ).join(
        '',
      )}<td data-kpi="alarmsPerTicket">${cell(k.alarmsPerTicket, (v) => v.toFixed(2))}</td><td data-kpi="medianSignMs">${cell(k.medianSignMs, span)}</td><td data-kpi="medianCloseMs">${cell(k.medianCloseMs, span)}</td></tr>`;
    this.#out.innerHTML = `${period}<div class="kpi-charts">${rates}${counts}</div>
<div class="kpi-table-wrap"><table class="kpi-table"><thead><tr>${head.map((h) => `<th>${esc(t(h))}</th>`).join('')}</tr></thead><tbody>${a.kpis
      .map(row)
      .join('')}</tbody></table></div>`;
  }
}

/** The KPIs' group for tickets with no value at the level: outside the grid, or not dispatched yet. */
function groupName(key: string): string {
  return key === '(none)' ? t('kpi.noGroup') : areaName(key);
}
