import { commissionFailed, type Link } from '@shouwang/protocol';
import { actionPath, allowed, apiAction, DESTRUCTIVE, explain, neededRole, UNIT_ACTIONS, type UnitAction } from './actions.ts';
import type { Api } from './api.ts';
import { type PowerPoint, powerChart } from './chart.ts';
import { COMMISSION_ORDER } from './checks.ts';
import { confirmAction } from './confirm.ts';
import { commissioningVerdict, FIELDS, type FieldContext, fieldClass, judgedNote, LISTED, linkType, unitFields } from './fields.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import type { AuditEntry, CommissionRun, Row, Session } from './model.ts';
import type { Key } from './strings.ts';
import { ago, clock } from './time.ts';

export interface UnitPageDeps {
  api: Api;
  session: () => Session;
  ctx: () => FieldContext;
  /** The live and talk-down panels (live-player.ts): placed under the unit's name and state, not above them. */
  live: HTMLElement;
}

/**
 * One unit's page: everything its card says, its power history, the commissioning checklist a
 * technician runs on site, the actions the caller's role allows, and its audit log. Laid out for
 * a phone first (one column, large targets). Link diagnostics have their own section so driver
 * counters and part health can join the link's figures there.
 */
export class UnitPage {
  readonly #root: HTMLElement;
  readonly #deps: UnitPageDeps;
  #row: Row | null = null;

  constructor(root: HTMLElement, deps: UnitPageDeps) {
    this.#root = root;
    this.#deps = deps;
    root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-act]');
      if (b && this.#row) void this.#act(b.dataset.act as UnitAction | 'commission');
    });
  }

  get current(): string | null {
    return this.#row?.id ?? null;
  }

  open(row: Row): void {
    const fresh = row.id !== this.#row?.id;
    this.#row = row;
    this.#render();
    // A unit opened from a page scrolled down (a ticket's evidence) starts at its name, not mid-page.
    if (fresh) this.#root.scrollIntoView({ block: 'start' });
    void this.#loadHistory();
    this.#loadCommissioning().catch(() => this.#failed('.comm-result'));
    this.#loadAudit().catch(() => this.#failed('.audit-list'));
  }

  /** A part of the page the fleet would not give: say so where it would have been. */
  #failed(selector: string): void {
    const n = this.#root.querySelector<HTMLElement>(selector);
    if (n) n.textContent = t('unit.loadFailed');
  }

  close(): void {
    this.#row = null;
    this.#root.replaceChildren();
  }

  update(row: Row): void {
    if (row.id !== this.#row?.id) return;
    this.#row = row;
    this.#patch();
  }

  relabel(): void {
    if (this.#row) this.open(this.#row);
  }

  #render(): void {
    const row = this.#row;
    if (!row) return;
    const session = this.#deps.session();
    const actions = UNIT_ACTIONS.map((a) => {
      const need = apiAction(a);
      const ok = allowed(session, need);
      return `<button type="button" data-act="${a}" class="${DESTRUCTIVE.has(a) ? 'danger' : ''} ${ok ? '' : 'not-allowed'}">${t(`action.${a}`)}${
        ok ? '' : ` <small>${t('action.needs', { role: t(`role.${neededRole(need)}`) })}</small>`
      }</button>`;
    }).join('');
    const commissionOk = allowed(session, apiAction('commission'));
    this.#root.innerHTML = `<div class="unit-page" data-unit="${esc(row.id)}">
  <div class="unit-head">
    <a class="back" href="#/">${t('nav.back')}</a>
    <h2>${esc(row.id)} <span data-field="alarm"></span> <span class="badge" data-field="liveness"></span></h2>
    <p class="where"><span data-field="site"></span> <span data-field="grid"></span></p>
  </div>
  <section class="status"><dl>${LISTED.map((f) => `<dt>${t(`field.${f}`)}</dt><dd data-field="${f}"></dd>`).join('')}</dl></section>
  <div class="live-slot"></div>
  <section class="history"><h3>${t('unit.history')}</h3><div class="chart-slot"><p class="dim">${t('unit.loading')}</p></div></section>
  <section class="link-diag" data-slot="link-diagnostics"><h3>${t('unit.link')}</h3><dl class="link-figures"></dl></section>
  <section class="commissioning"><h3>${t('unit.commissioning')}</h3>
    <ol class="steps">${COMMISSION_ORDER.map((c) => `<li data-check="${c}"><span class="step">${t(`check.${c}`)}</span> <span class="verdict dim">—</span> <small class="detail"></small></li>`).join('')}</ol>
    <button type="button" data-act="commission" class="primary ${commissionOk ? '' : 'not-allowed'}">${t('action.commission')}${
      commissionOk ? '' : ` <small>${t('action.needs', { role: t(`role.${neededRole(apiAction('commission'))}`) })}</small>`
    }</button>
    <p class="comm-result" aria-live="polite"></p>
  </section>
  <section class="actions"><h3>${t('unit.actions')}</h3>
    <div class="config-set"><label>${t('config.key')} <input name="key" autocomplete="off"></label><label>${t('config.value')} <input name="value" autocomplete="off"></label></div>
    <div class="buttons">${actions}</div>
    <pre class="action-result" aria-live="polite"></pre>
  </section>
  <section class="audit"><h3>${t('unit.audit')}</h3><ol class="audit-list"><li class="dim">${t('unit.loading')}</li></ol></section>
</div>`;
    // The same element each time, moved in the same task: a playing feed is not interrupted by a redraw.
    this.#root.querySelector('.live-slot')?.replaceWith(this.#deps.live);
    this.#patch();
  }

  #patch(): void {
    const row = this.#row;
    if (!row) return;
    const fields = unitFields(row, this.#deps.ctx());
    for (const name of FIELDS) {
      const n = this.#root.querySelector<HTMLElement>(`[data-field="${name}"]`);
      if (!n) continue;
      n.textContent = fields[name].text;
      n.className = fieldClass(name, fields[name].cls);
    }
    const l = row.view?.link;
    const figures = this.#root.querySelector<HTMLElement>('.link-figures');
    if (figures) {
      const items: [Key, string][] = l
        ? [
            ['link.type', linkType(l.type)],
            ['link.rssi', l.rssiDbm === undefined ? t('link.unknown') : `${l.rssiDbm} dBm`],
            ['link.bars', l.bars === undefined ? t('link.unknown') : `${l.bars} / 5`],
            ['link.registered', t(l.registered === undefined ? 'link.unknown' : l.registered ? 'link.yes' : 'link.no')],
            ['link.reported', ago(l.ts, this.#deps.ctx().now)],
            ...portRows(l.ports),
          ]
        : [];
      figures.innerHTML = items.length
        ? items.map(([k, v]) => `<dt>${t(k)}</dt><dd>${esc(v)}</dd>`).join('')
        : `<dd class="dim">${t('unit.noLink')}</dd>`;
    }
  }

  async #loadHistory(): Promise<void> {
    const id = this.#row?.id;
    if (!id) return;
    try {
      const h = await this.#deps.api.get<{ points: PowerPoint[] }>(`/api/units/${encodeURIComponent(id)}/history/power`);
      const slot = this.#root.querySelector('.chart-slot');
      if (slot && this.#row?.id === id)
        slot.innerHTML = powerChart(h.points, {
          empty: t('chart.empty'),
          battery: t('chart.battery'),
          harvest: t('chart.harvest'),
          load: t('chart.load'),
          peak: t('chart.peak'),
        });
    } catch {
      // A unit registered but never heard has no history: the slot keeps saying so.
    }
  }

  async #loadCommissioning(): Promise<void> {
    const id = this.#row?.id;
    if (!id) return;
    const { runs } = await this.#deps.api.get<{ runs: CommissionRun[] }>(`/api/units/${encodeURIComponent(id)}/commissioning?limit=1`);
    if (runs[0] && this.#row?.id === id) this.#showRun(runs[0]);
  }

  #showRun(run: CommissionRun): void {
    for (const item of run.items) {
      const li = this.#root.querySelector<HTMLElement>(`li[data-check="${item.check}"]`);
      if (!li) continue;
      const verdict = item.pass ? 'pass' : item.pending ? 'pending' : 'fail';
      li.className = verdict;
      (li.querySelector('.verdict') as HTMLElement).textContent = t(`comm.${verdict}`);
      (li.querySelector('.verdict') as HTMLElement).className = 'verdict';
      (li.querySelector('.detail') as HTMLElement).textContent =
        item.judgedAt === undefined ? item.detail : `${item.detail} · ${t('comm.judgedAt', { at: clock(item.judgedAt) })}`;
    }
    const out = this.#root.querySelector<HTMLElement>('.comm-result');
    if (out) {
      out.className = `comm-result ${run.passed ? 'pass' : 'fail'}`;
      out.textContent = `${commissioningVerdict(
        run.passed,
        run.items.filter(commissionFailed).map((i) => i.check),
        run.items.filter((i) => i.pending).map((i) => i.check),
      )} · ${clock(run.requestedAt)}${judgedNote(run.items.flatMap((i) => (i.judgedAt === undefined ? [] : [{ check: i.check, at: i.judgedAt }])))}`;
    }
  }

  async #loadAudit(): Promise<void> {
    const id = this.#row?.id;
    if (!id) return;
    const { entries } = await this.#deps.api.get<{ entries: AuditEntry[] }>(`/api/units/${encodeURIComponent(id)}/audit?limit=20`);
    const list = this.#root.querySelector<HTMLElement>('.audit-list');
    if (!list || this.#row?.id !== id) return;
    list.innerHTML = entries.length
      ? entries
          .map(
            (e) =>
              `<li class="${e.result === 'ok' ? 'ok' : 'refused'}"><time>${clock(e.at)}</time> <b>${esc(e.actorId === 'bootstrap' ? t('role.bootstrap') : e.actor)}</b> <span class="dim">(${t(`role.${e.role}` as Key)})</span> ${esc(actionLabel(e.action))} → ${esc(e.result === 'ok' ? t('audit.ok') : e.result)}</li>`,
          )
          .join('')
      : `<li class="dim">${t('audit.none')}</li>`;
  }

  async #act(a: UnitAction | 'commission'): Promise<void> {
    const row = this.#row;
    if (!row) return;
    const session = this.#deps.session();
    const need = apiAction(a);
    const out = this.#root.querySelector<HTMLElement>(a === 'commission' ? '.comm-result' : '.action-result');
    if (!out) return;
    let body: unknown = {};
    if (a === 'config-set') {
      const key = this.#root.querySelector<HTMLInputElement>('.config-set input[name="key"]')?.value.trim() ?? '';
      const raw = this.#root.querySelector<HTMLInputElement>('.config-set input[name="value"]')?.value.trim() ?? '';
      if (!key) {
        out.textContent = t('config.keyRequired');
        return;
      }
      body = { args: { config: { [key]: parseValue(raw) } } };
    }
    if (DESTRUCTIVE.has(a as UnitAction) && !(await confirmAction(t(`confirm.${a as UnitAction}` as Key, { id: row.id })))) return;
    out.className = `${a === 'commission' ? 'comm-result' : 'action-result'} busy`;
    out.textContent = a === 'commission' ? t('comm.running') : t('action.sending', { action: t(`action.${a}`) });
    try {
      const answer = await this.#deps.api.post<Record<string, unknown>>(actionPath(row.id, a), body);
      if (a === 'commission') this.#showRun(answer as unknown as CommissionRun);
      else {
        out.className = 'action-result ok';
        out.textContent = `${t('action.done', { action: t(`action.${a}`) })}\n${JSON.stringify(answer.data ?? answer, null, 2)}`;
      }
    } catch (err) {
      out.className = `${a === 'commission' ? 'comm-result' : 'action-result'} refused`;
      out.textContent = explain(err, need, session);
    }
    await this.#loadAudit().catch(() => this.#failed('.audit-list'));
  }
}

function actionLabel(action: string): string {
  return (UNIT_ACTIONS as readonly string[]).includes(action) || action === 'commission' || action === 'claim'
    ? t(`action.${action as UnitAction}`)
    : action;
}

/** A config value as typed: a number or a boolean when it reads as one, else the text. */
function parseValue(raw: string): string | number | boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw !== '' && Number.isFinite(n) ? n : raw;
}

/** The GPS and modem serial ports as the unit's drivers see them: state, reopens, input dropped by reason. */
function portRows(ports: Link['ports']): [Key, string][] {
  if (!ports) return [];
  return (['gps', 'modem'] as const).map((part) => {
    const p = ports[part];
    const drops = Object.entries(p.drops).filter(([, n]) => n > 0);
    return [
      `link.port.${part}`,
      t('link.port', {
        path: p.path ?? '—',
        state: t(`port.${p.state}`),
        reopens: String(p.reopens),
        drops: drops.length ? t('link.drops', { list: drops.map(([why, n]) => `${why} ${n}`).join(', ') }) : '',
      }),
    ];
  });
}
