import { TICKET_STATES } from '@shouwang/protocol';
import type { Api } from './api.ts';
import { areaName, learnNames } from './area-names.ts';
import type { FleetClock } from './fleet-clock.ts';
import { esc } from './html.ts';
import { t, translateStatic } from './i18n.ts';
import { gridPath, shortId } from './loop-actions.ts';
import { Beat, RECONCILE_MS } from './loop-beat.ts';
import { type AreaNames, type Light, lightAt, type TicketPush, type TicketView } from './loop-model.ts';
import type { Key } from './strings.ts';
import { clock, until } from './time.ts';

export interface TicketQueueDeps {
  api: Api;
  clock: FleetClock;
}

/** The grid levels a queue can be narrowed to, widest first; each is a query key of GET /api/tickets. */
export const GRID_LEVELS = ['district', 'street', 'community', 'cell'] as const;
type GridLevel = (typeof GRID_LEVELS)[number];
/** Query keys the queue keeps in its address (the API's own, so a shared link asks the same). */
const KEYS = ['open', 'state', 'light', 'department', ...GRID_LEVELS] as const;

interface Row {
  el: HTMLAnchorElement;
  drawn: string;
  due: HTMLElement;
  light: HTMLElement;
  lastLight: string;
  ticket: TicketView;
}

/**
 * The ticket queue: soonest deadline first, each ticket's traffic light painted against the fleet's
 * clock, narrowed by grid level, department, state and light. The filter lives in the address
 * (`#/tickets?district=daoli&state=dispatched`), the same keys the API takes, so a link shows
 * whoever opens it the same queue. Rows are keyed by ticket and redrawn only when it changes;
 * lights and "due in" move on every few seconds without a redraw.
 *
 * Tickets the fleet changes are pushed on the dashboard's stream and matched here against the
 * queue's filter as the API would (a ticket moved out of the filter leaves the queue); the whole
 * queue is asked for on opening, on each (re)connection of the stream and every RECONCILE_MS.
 */
export class TicketQueue {
  readonly #root: HTMLElement;
  readonly #deps: TicketQueueDeps;
  readonly #rows = new Map<string, Row>();
  readonly #list: HTMLElement;
  readonly #count: HTMLElement;
  readonly #beat: Beat;
  readonly #form: HTMLFormElement;
  /** Grid areas and departments seen in answers, offered as choices. */
  readonly #seen = {
    district: new Set<string>(),
    street: new Set<string>(),
    community: new Set<string>(),
    cell: new Set<string>(),
    department: new Set<string>(),
  };
  #query = new URLSearchParams();
  #tick: ReturnType<typeof setInterval> | undefined;
  /** Pushed tickets not drawn yet: drawn, ordered and counted at the next animation frame. */
  #frame: Map<string, TicketView> | null = null;
  /** Tickets pushed while a full answer is on its way, with their time: that answer may be older. */
  #pushed: Map<string, number> | null = null;

  constructor(root: HTMLElement, deps: TicketQueueDeps) {
    this.#root = root;
    this.#deps = deps;
    root.classList.add('ticket-queue');
    const options = (values: readonly string[], prefix: string) =>
      values.map((v) => `<option value="${v}" data-i18n="${prefix}${v}"></option>`).join('');
    root.innerHTML = `<div class="console-head"><h2 data-i18n="ticket.queue"></h2><span class="count" aria-live="polite"></span></div>
<form class="ticket-filters">
<label><span data-i18n="ticket.filterLevel"></span><select name="level">${options(GRID_LEVELS, 'level.')}</select></label>
<label><span data-i18n="ticket.filterValue"></span><input name="area" list="ticket-areas" autocomplete="off"></label><datalist id="ticket-areas"></datalist>
<label><span data-i18n="ticket.filterDepartment"></span><select name="department"></select></label>
<label><span data-i18n="ticket.filterState"></span><select name="state"><option value="open" data-i18n="ticket.openOnly"></option><option value="" data-i18n="ticket.any"></option>${options(TICKET_STATES, 'state.')}</select></label>
<label><span data-i18n="ticket.filterLight"></span><select name="light"><option value="" data-i18n="ticket.any"></option>${options(['green', 'yellow', 'red'], 'light.')}</select></label>
<button type="button" class="clear" data-i18n="ticket.clear"></button>
</form>
<p class="dim note"><span data-i18n="ticket.share"></span> <span class="status"></span></p>
<div class="ticket-list" role="list"></div>`;
    this.#list = root.querySelector('.ticket-list') as HTMLElement;
    this.#count = root.querySelector('.count') as HTMLElement;
    this.#beat = new Beat(RECONCILE_MS, (superseded) => this.#ask(superseded), root.querySelector('.status'));
    this.#form = root.querySelector('form') as HTMLFormElement;
    translateStatic(root);
    this.#form.addEventListener('change', () => this.#navigate());
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#navigate();
    });
    (root.querySelector('button.clear') as HTMLButtonElement).addEventListener('click', () => {
      location.hash = '#/tickets';
    });
  }

  /** Opens the queue with the address's filter (`query` is what follows `#/tickets?`). */
  open(query: URLSearchParams): void {
    const q = new URLSearchParams();
    for (const k of KEYS) {
      const v = query.get(k);
      // An empty state is a choice: any state, open or closed.
      if (v || (v === '' && k === 'state')) q.set(k, v);
    }
    if (!q.has('state') && !q.has('open')) q.set('open', 'true');
    const changed = q.toString() !== this.#query.toString();
    this.#query = q;
    this.#root.hidden = false;
    this.#fillForm();
    if (changed) {
      for (const row of this.#rows.values()) row.el.remove();
      this.#rows.clear();
    }
    this.#beat.start();
    clearInterval(this.#tick);
    this.#tick = setInterval(() => this.#paintTimes(), 1000);
  }

  close(): void {
    this.#root.hidden = true;
    this.#beat.stop();
    clearInterval(this.#tick);
  }

  relabel(): void {
    this.#fillForm();
    for (const row of this.#rows.values()) {
      row.drawn = '';
      row.lastLight = '';
      this.#draw(row);
    }
    this.#paintTimes();
  }

  /** The form's choice, written to the address: the hash route opens the queue again with it. */
  #navigate(): void {
    const data = new FormData(this.#form);
    const q = new URLSearchParams();
    const state = String(data.get('state') ?? '');
    if (state === 'open') q.set('open', 'true');
    else if (state) q.set('state', state);
    const light = String(data.get('light') ?? '');
    if (light) q.set('light', light);
    const department = String(data.get('department') ?? '');
    if (department) q.set('department', department);
    const area = String(data.get('area') ?? '').trim();
    if (area) q.set(String(data.get('level')), area);
    const s = q.toString();
    location.hash = s ? `#/tickets?${s}` : '#/tickets?state=';
  }

  #fillForm(): void {
    const f = this.#form.elements;
    const q = this.#query;
    const select = f.namedItem('level') as HTMLSelectElement;
    const current = GRID_LEVELS.find((l) => l === select.value) ?? 'district';
    const level: GridLevel = GRID_LEVELS.find((l) => q.has(l)) ?? current;
    select.value = level;
    (f.namedItem('area') as HTMLInputElement).value = q.get(level) ?? '';
    (f.namedItem('state') as HTMLSelectElement).value = q.get('open') === 'true' ? 'open' : (q.get('state') ?? '');
    (f.namedItem('light') as HTMLSelectElement).value = q.get('light') ?? '';
    const dep = f.namedItem('department') as HTMLSelectElement;
    const deps = [...this.#seen.department, ...(q.get('department') ? [q.get('department') as string] : [])];
    const html = `<option value="">${esc(t('ticket.any'))}</option>${[...new Set(deps)]
      .sort()
      .map((d) => `<option value="${esc(d)}">${esc(d)}</option>`)
      .join('')}`;
    if (dep.innerHTML !== html) dep.innerHTML = html;
    dep.value = q.get('department') ?? '';
    const areas = this.#root.querySelector('datalist') as HTMLElement;
    const list = [...this.#seen[level]]
      .sort()
      // The filter takes the id; the choice also shows the grid file's name, and typing the name finds it.
      .map((v) => `<option value="${esc(v)}"${areaName(v) !== v ? ` label="${esc(areaName(v))}"` : ''}></option>`)
      .join('');
    if (areas.innerHTML !== list) areas.innerHTML = list;
  }

  /** The stream (re)connected: an open queue asks in full once. */
  reconcile(): void {
    if (this.#beat.on) void this.#beat.run();
  }

  /** Tickets the fleet changed: in the queue if its filter takes them, out if not, at the next frame. */
  push(e: TicketPush): void {
    if (!this.#beat.on) return;
    this.#deps.clock.sync(e.now);
    learnNames(e.names);
    let frame = this.#frame;
    if (!frame) {
      const f = new Map<string, TicketView>();
      frame = f;
      this.#frame = f;
      requestAnimationFrame(() => {
        this.#frame = null;
        this.#merge(f);
      });
    }
    for (const tk of e.tickets) {
      this.#pushed?.set(tk.id, tk.updatedAt);
      const had = frame.get(tk.id) ?? this.#rows.get(tk.id)?.ticket;
      if (!had || had.updatedAt <= tk.updatedAt) frame.set(tk.id, tk);
    }
    this.#beat.heard(e.now);
  }

  #merge(pushed: ReadonlyMap<string, TicketView>): void {
    const tickets = new Map([...this.#rows].map(([id, row]) => [id, row.ticket]));
    for (const [id, tk] of pushed)
      if (matches(this.#query, tk)) tickets.set(id, tk);
      else tickets.delete(id);
    // Soonest deadline first, as the API orders them.
    this.#apply([...tickets.values()].sort((a, b) => a.deadlineAt - b.deadlineAt));
  }

  async #ask(superseded: () => boolean): Promise<number | null> {
    const pushed = new Map<string, number>();
    this.#pushed = pushed;
    const asked = this.#query.toString();
    const api = new URLSearchParams(this.#query);
    if (api.get('state') === '') api.delete('state');
    api.set('limit', '1000');
    const answer = await this.#deps.api.get<{ now: number; tickets: TicketView[]; names: AreaNames }>(`/api/tickets?${api}`);
    // The filter changed while this answer was on its way: it answers a question no longer asked.
    if (superseded() || asked !== this.#query.toString()) return null;
    if (this.#pushed === pushed) this.#pushed = null;
    this.#deps.clock.sync(answer.now);
    learnNames(answer.names);
    // A ticket pushed while the answer was on its way stays as pushed if that is as new.
    const listed = new Set(answer.tickets.map((tk) => tk.id));
    const tickets = answer.tickets.map((tk) => {
      const row = this.#rows.get(tk.id);
      return row && (pushed.get(tk.id) ?? -1) >= tk.updatedAt ? row.ticket : tk;
    });
    for (const [id, row] of this.#rows) if (!listed.has(id) && pushed.has(id)) tickets.push(row.ticket);
    this.#apply(tickets.sort((a, b) => a.deadlineAt - b.deadlineAt));
    return answer.now;
  }

  #apply(tickets: readonly TicketView[]): void {
    const seen = new Set<string>();
    tickets.forEach((tk, i) => {
      seen.add(tk.id);
      for (const l of GRID_LEVELS) if (tk.grid[l]) this.#seen[l].add(tk.grid[l] as string);
      if (tk.department) this.#seen.department.add(tk.department);
      let row = this.#rows.get(tk.id);
      if (!row) {
        row = build(tk);
        this.#rows.set(tk.id, row);
        this.#list.append(row.el);
      }
      row.ticket = tk;
      this.#draw(row);
      const o = String(i);
      if (row.el.style.order !== o) row.el.style.order = o;
    });
    for (const [id, row] of this.#rows)
      if (!seen.has(id)) {
        row.el.remove();
        this.#rows.delete(id);
      }
    this.#count.textContent = tickets.length ? t('ticket.count', { n: tickets.length }) : t('ticket.none');
    this.#fillForm();
    this.#paintTimes();
  }

  #draw(row: Row): void {
    const tk = row.ticket;
    const key = `${tk.updatedAt}|${tk.state}|${tk.alarmCount}|${tk.escalated}|${tk.rework}|${tk.department}`;
    if (row.drawn === key) return;
    row.drawn = key;
    const badges = [
      tk.escalated ? `<span class="badge escalated">${esc(t('ticket.escalated'))}</span>` : '',
      tk.rework > 0 ? `<span class="badge rework">${esc(t('ticket.rework', { n: tk.rework }))}</span>` : '',
    ].join('');
    (row.el.querySelector('.body') as HTMLElement).innerHTML = `<span class="id" title="${esc(tk.id)}">${esc(shortId(tk.id))}</span>
<span class="what"><b>${esc(t(`kind.${tk.alarmKind}` as Key))}</b> · ${esc(t(`severity.${tk.severity}`))} · ${esc(tk.unitId)}</span>
<span class="grid-path">${gridPath(tk.grid)}</span>
<span class="department">${esc(tk.department ?? `${t('ticket.noDepartment')} (${tk.dispatcher})`)}</span>
<span class="state">${esc(t(`state.${tk.state}`))} · ${esc(tk.alarmCount === 1 ? t('ticket.alarm') : t('ticket.alarms', { n: tk.alarmCount }))}${badges}</span>`;
  }

  /** Lights and "due in" against the fleet's clock, touching only what changed. */
  #paintTimes(): void {
    const now = this.#deps.clock.now();
    for (const row of this.#rows.values()) {
      const light: Light = lightAt(row.ticket, now);
      if (row.lastLight !== light) {
        row.lastLight = light;
        row.el.dataset.light = light;
        row.light.textContent = t(`light.${light}`);
      }
      const due = t('ticket.due', { time: clock(row.ticket.deadlineAt), until: until(row.ticket.deadlineAt, now) });
      if (row.due.textContent !== due) row.due.textContent = due;
    }
  }
}

/** Whether the queue's filter (the API's own keys, as in its address) takes this ticket. */
export function matches(q: URLSearchParams, tk: TicketView): boolean {
  const state = q.get('state');
  if (state && tk.state !== state) return false;
  if (q.get('open') === 'true' && tk.state === 'closed') return false;
  for (const l of GRID_LEVELS) {
    const v = q.get(l);
    if (v && tk.grid[l] !== v) return false;
  }
  const department = q.get('department');
  if (department && tk.department !== department) return false;
  const light = q.get('light');
  return !light || tk.light === light;
}

function build(tk: TicketView): Row {
  const el = document.createElement('a');
  el.className = 'ticket-row';
  el.href = `#/ticket/${encodeURIComponent(tk.id)}`;
  el.dataset.ticket = tk.id;
  el.setAttribute('role', 'listitem');
  const head = document.createElement('span');
  head.className = 'timing';
  const light = document.createElement('span');
  light.className = 'light';
  const due = document.createElement('span');
  due.className = 'due';
  head.append(light, due);
  const body = document.createElement('span');
  body.className = 'body';
  el.append(head, body);
  return { el, drawn: '', due, light, lastLight: '', ticket: tk };
}
