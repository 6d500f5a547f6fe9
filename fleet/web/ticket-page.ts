import { MOVES, TICKET_ACTIONS, type TicketAction } from '../src/domain/ticket-flow.ts';
import { allowed } from './actions.ts';
import { type Api, ApiError } from './api.ts';
import { learnNames } from './area-names.ts';
import { confirmAction } from './confirm.ts';
import { EvidenceList, type Occurrence } from './evidence-list.ts';
import type { FleetClock } from './fleet-clock.ts';
import { esc } from './html.ts';
import { t } from './i18n.ts';
import { actorName, explainLoop, gridPath, loopRole } from './loop-actions.ts';
import { Beat, RECONCILE_MS } from './loop-beat.ts';
import { type AreaNames, lightAt, type TicketPush, type TicketView, type TimelineEntry } from './loop-model.ts';
import type { Session } from './model.ts';
import type { Key } from './strings.ts';
import { clock, span, timeZone, until } from './time.ts';

export interface TicketPageDeps {
  api: Api;
  /** The signed-in token, for the stored files the evidence shows. */
  token: () => string | null;
  session: () => Session;
  clock: FleetClock;
}

type Move = Exclude<TicketAction, 'report'>;
/** Moves that undo work or call in someone else: asked first. */
const CONFIRM: ReadonlySet<Move> = new Set(['return', 'close', 'reopen', 'escalate']);
/** What a timeline row can say: the moves, and what the fleet records itself. */
const TIMELINE_ACTIONS: ReadonlySet<string> = new Set([...TICKET_ACTIONS, 'discover', 'merge', 'warn', 'overdue']);

/**
 * One work order: what happened and where (unit, alarm, grid path, department), its deadline and
 * light against the fleet's clock, the evidence (position, the unit's readings when the alarm was
 * taken, the stills, clip and verified chain of every alarm merged into it — evidence-list.ts), every
 * move on its timeline, and the moves its state allows, each marked with the role it needs. The
 * fleet decides: a refused move (403, 409) is shown in words and the ticket reloaded.
 *
 * A push on the dashboard's stream that names this ticket (a move, a merge, a timer's warning)
 * makes the page ask for it and its timeline at once; it also asks on opening, on each
 * (re)connection of the stream and every RECONCILE_MS.
 */
export class TicketPage {
  readonly #root: HTMLElement;
  readonly #deps: TicketPageDeps;
  #id: string | null = null;
  #ticket: TicketView | null = null;
  #drawn = '';
  /** Departments the fleet's tickets name, offered when dispatching (any name is accepted). */
  #departments: string[] = [];
  readonly #beat: Beat;
  readonly #evidence: EvidenceList;

  constructor(root: HTMLElement, deps: TicketPageDeps) {
    this.#root = root;
    this.#deps = deps;
    this.#evidence = new EvidenceList({ api: deps.api, token: deps.token });
    root.classList.add('ticket-page');
    this.#beat = new Beat(RECONCILE_MS, (superseded) => this.#load(superseded), null);
    root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-move]');
      if (b) void this.#move(b.dataset.move as Move);
    });
  }

  get current(): string | null {
    return this.#id;
  }

  open(id: string): void {
    if (this.#id !== id) {
      this.#id = id;
      this.#ticket = null;
      this.#drawn = '';
      this.#root.replaceChildren();
    }
    this.#root.hidden = false;
    this.#beat.start();
  }

  close(): void {
    this.#id = null;
    this.#root.hidden = true;
    this.#beat.stop();
    this.#evidence.clear();
  }

  /** The stream (re)connected: an open ticket is asked for once. */
  reconcile(): void {
    if (this.#beat.on) void this.#beat.run();
  }

  /** Tickets the fleet changed: this one, if among them, is asked for with its timeline. */
  push(e: TicketPush): void {
    if (this.#beat.on && e.tickets.some((tk) => tk.id === this.#id)) void this.#beat.run();
  }

  relabel(): void {
    this.#drawn = '';
    this.#evidence.relabel();
    if (this.#id) void this.#beat.run();
  }

  /** The ticket and its timeline; a refusal is said where the ticket would be (the beat goes on). */
  async #load(superseded: () => boolean): Promise<null> {
    const id = this.#id;
    if (!id) return null;
    try {
      const a = await this.#deps.api.get<{
        now: number;
        ticket: TicketView;
        alarms: Occurrence[];
        timeline: TimelineEntry[];
        names: AreaNames;
      }>(`/api/tickets/${encodeURIComponent(id)}`);
      if (id !== this.#id || superseded()) return null;
      this.#deps.clock.sync(a.now);
      learnNames(a.names);
      if (a.ticket.state === 'reported' || a.ticket.state === 'returned') await this.#loadDepartments();
      await this.#evidence.show(a.ticket.unitId, a.alarms);
      if (id !== this.#id || superseded()) return null;
      this.#ticket = a.ticket;
      this.#draw(a.ticket, a.timeline);
    } catch (err) {
      if (id !== this.#id || superseded()) return null;
      const missing = err instanceof ApiError && err.status === 404;
      this.#root.innerHTML = `<a class="back" href="#/tickets">${esc(t('ticket.back'))}</a><p class="refused">${esc(
        missing ? t('ticket.notFound', { id }) : t('loop.loadFailed', { message: (err as Error).message }),
      )}</p>`;
      this.#drawn = '';
    }
    return null;
  }

  async #loadDepartments(): Promise<void> {
    if (this.#departments.length) return;
    const { tickets } = await this.#deps.api.get<{ tickets: TicketView[] }>('/api/tickets?limit=5000');
    this.#departments = [...new Set(tickets.flatMap((x) => (x.department ? [x.department] : [])))].sort();
  }

  #draw(tk: TicketView, timeline: readonly TimelineEntry[]): void {
    const now = this.#deps.clock.now();
    const light = lightAt(tk, now);
    const session = this.#deps.session();
    // Redrawn when the ticket, its light or the caller's role changes; a typed reason survives a poll otherwise.
    const key = `${tk.updatedAt}|${timeline.length}|${light}|${session.role}|${this.#evidence.empty}`;
    if (key === this.#drawn) {
      const due = this.#root.querySelector('[data-field="deadline"]');
      if (due) due.textContent = t('ticket.due', { time: clock(tk.deadlineAt), until: until(tk.deadlineAt, now) });
      return;
    }
    const reason = (this.#root.querySelector('input[name="reason"]') as HTMLInputElement | null)?.value ?? '';
    this.#drawn = key;
    const g = tk.grid;
    const fact = (label: Key, value: string, field = '') =>
      `<dt>${esc(t(label))}</dt><dd${field ? ` data-field="${field}"` : ''}>${value}</dd>`;
    const facts = [
      fact('ticket.unit', `<a href="#/unit/${encodeURIComponent(tk.unitId)}">${esc(tk.unitId)}</a>`),
      fact(
        'ticket.kind',
        esc(
          `${t(`kind.${tk.alarmKind}` as Key)} · ${t(`severity.${tk.severity}`)} · ${t(`priority.${tk.priority}` as Key)} · ${t(`category.${tk.category}` as Key)}`,
        ),
      ),
      fact('ticket.grid', gridPath(g)),
      fact('ticket.team', esc(g.team ?? '—')),
      fact('ticket.department', esc(tk.department ?? t('ticket.noDepartment')), 'department'),
      fact('ticket.dispatcher', esc(tk.dispatcher)),
      fact('ticket.opened', esc(clock(tk.openedAt))),
      fact('ticket.deadline', esc(t('ticket.due', { time: clock(tk.deadlineAt), until: until(tk.deadlineAt, now) })), 'deadline'),
      fact('ticket.merged', String(Math.max(0, tk.alarmCount - 1)), 'merged'),
      fact('ticket.key', `<code>${esc(tk.idempotencyKey)}</code>`, 'key'),
    ].join('');
    const badges = [
      `<span class="badge light" data-light="${light}">${esc(t(`light.${light}`))}</span>`,
      `<span class="badge state">${esc(t(`state.${tk.state}`))}</span>`,
      tk.escalated ? `<span class="badge escalated">${esc(t('ticket.escalated'))}</span>` : '',
      tk.rework > 0 ? `<span class="badge rework">${esc(t('ticket.rework', { n: tk.rework }))}</span>` : '',
    ].join(' ');
    this.#root.innerHTML = `<a class="back" href="#/tickets">${esc(t('ticket.back'))}</a>
<header class="ticket-head" data-ticket="${esc(tk.id)}" data-light="${light}"><h2>${esc(tk.id)}</h2>${badges}</header>
<div class="ticket-cols"><div><dl class="ticket-facts">${facts}</dl>
<section class="ticket-actions"><h3>${esc(t('ticket.actions'))}</h3>${returned(tk, timeline)}${this.#actions(tk, session, reason)}</section></div>
<div><section class="timeline"><h3>${esc(t('ticket.timeline'))} <small>${esc(timeZone())}</small></h3><ol>${timeline
      .map((e) => timelineItem(e, tk.alarmKind))
      .join('')}</ol></section>
<section class="evidence"><h3>${esc(t('ticket.evidence'))}</h3>${evidence(tk, this.#evidence.empty)}</section></div></div>`;
    // The same element each time: a redraw never restarts a clip.
    this.#root.querySelector('.evidence-slot')?.replaceWith(this.#evidence.element);
  }

  #actions(tk: TicketView, session: Session, reason: string): string {
    const moves = TICKET_ACTIONS.filter((a): a is Move => a !== 'report' && MOVES[a].role !== 'system' && MOVES[a].from.includes(tk.state));
    if (moves.length === 0) return `<p class="dim">${esc(t('ticket.noActions'))}</p>`;
    const needReason = moves.filter((m) => MOVES[m].reason === 'required').map((m) => t(`move.${m}`));
    const buttons = moves
      .map((m) => {
        const role = MOVES[m].role;
        if (role === 'system') return '';
        const ok = allowed(session, role);
        const needs = ok ? '' : ` <small>${esc(t('action.needs', { role: t(`role.${loopRole(role)}`) }))}</small>`;
        return `<button type="button" data-move="${m}" class="${CONFIRM.has(m) ? 'danger' : 'primary'}${ok ? '' : ' not-allowed'}">${esc(t(`move.${m}`))}${needs}</button>`;
      })
      .join('');
    const dispatch = moves.includes('dispatch')
      ? `<label>${esc(t('ticket.toDepartment'))}<input name="department" list="ticket-departments" value="${esc(tk.state === 'returned' ? '' : (tk.department ?? ''))}" maxlength="200" autocomplete="off"></label><datalist id="ticket-departments">${this.#departments
          .map((d) => `<option value="${esc(d)}"></option>`)
          .join('')}</datalist>`
      : '';
    return `<div class="move-form">${dispatch}<label>${esc(needReason.length ? t('ticket.reasonRequired', { moves: needReason.join(', ') }) : t('ticket.reason'))}<input name="reason" maxlength="2000" value="${esc(reason)}"></label></div>
<div class="move-buttons">${buttons}</div><p class="result" aria-live="polite"></p>`;
  }

  async #move(m: Move): Promise<void> {
    const tk = this.#ticket;
    const role = MOVES[m].role;
    if (!tk || role === 'system') return;
    const result = this.#root.querySelector('.ticket-actions .result') as HTMLElement;
    const reasonInput = this.#root.querySelector('input[name="reason"]') as HTMLInputElement;
    const reason = reasonInput.value.trim();
    if (MOVES[m].reason === 'required' && !reason) {
      result.className = 'result refused';
      result.textContent = t('ticket.needReason');
      reasonInput.focus();
      return;
    }
    if (CONFIRM.has(m) && !(await confirmAction(t(`confirm.${m}` as Key, { id: tk.id })))) return;
    const body: { reason?: string; department?: string } = reason ? { reason } : {};
    const department = (this.#root.querySelector('input[name="department"]') as HTMLInputElement | null)?.value.trim();
    if (m === 'dispatch' && department) body.department = department;
    const label = t(`move.${m}`);
    result.className = 'result';
    result.textContent = t('ticket.sending', { action: label });
    let message: { cls: string; text: string };
    try {
      await this.#deps.api.post(`/api/tickets/${encodeURIComponent(tk.id)}/${m}`, body);
      message = { cls: 'result ok', text: t('ticket.done', { action: label }) };
      (this.#root.querySelector('input[name="reason"]') as HTMLInputElement).value = '';
    } catch (err) {
      message = { cls: 'result refused', text: explainLoop(err, role, this.#deps.session()) };
    }
    await this.#beat.run();
    const shown = this.#root.querySelector('.ticket-actions .result');
    if (shown) {
      shown.className = message.cls;
      shown.textContent = message.text;
    }
  }
}

/** A returned ticket says who sent it back and why, where the dispatcher chooses where it goes next. */
function returned(tk: TicketView, timeline: readonly TimelineEntry[]): string {
  if (tk.state !== 'returned') return '';
  const last = timeline.findLast((e) => e.action === 'return');
  if (!last) return '';
  return `<p class="returned-by">${esc(t('ticket.returnedBy', { department: tk.department ?? '—', reason: last.reason ?? '' }))}</p>`;
}

function evidence(tk: TicketView, noMedia: boolean): string {
  const ev = tk.evidence;
  const pos = ev.position ? `${ev.position.lat.toFixed(5)}, ${ev.position.lon.toFixed(5)}` : t('ticket.noPosition');
  const alarm = ev.alarm
    ? `<dt>${esc(t('ticket.alarmAt'))}</dt><dd>${esc(clock(ev.alarm.ts))}</dd><dt>${esc(t('ticket.alarmArrived'))}</dt><dd>${esc(clock(ev.alarm.receivedAt))}${
        ev.alarm.late
          ? ` <span class="badge late">${esc(t('alarm.late', { span: span(ev.alarm.receivedAt - ev.alarm.ts), time: clock(ev.alarm.receivedAt) }))}</span>`
          : ''
      }</dd>${ev.alarm.message ? `<dt>${esc(t('ticket.alarmMessage'))}</dt><dd>${esc(ev.alarm.message)}</dd>` : ''}`
    : '';
  const readings = flatten(ev.readings);
  // The stills and clips before the readings: what a commander looks at first, not under forty rows of figures.
  return `<dl><dt>${esc(t('ticket.position'))}</dt><dd data-field="position">${esc(pos)}</dd>${alarm}</dl>
<h4>${esc(t('ticket.media'))}</h4>${noMedia ? `<p class="dim no-media">${esc(t('ticket.noMedia'))}</p>` : ''}<div class="evidence-slot"></div>
<h4>${esc(t('ticket.readings'))}</h4>${
    readings.length
      ? `<table class="readings">${readings.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`
      : `<p class="dim">${esc(t('ticket.noReadings'))}</p>`
  }`;
}

/** The readings object as `power.soc: 41` lines (timestamps as clock times). */
function flatten(o: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(o).flatMap(([k, v]): [string, string][] => {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v === null || v === undefined) return [];
    if (typeof v === 'object' && !Array.isArray(v)) return flatten(v as Record<string, unknown>, name);
    if (typeof v === 'number' && (k === 'ts' || k.endsWith('At')) && v > 1e12) return [[name, clock(v)]];
    return [[name, Array.isArray(v) ? v.join(', ') : String(v)]];
  });
}

/**
 * A merge says which alarm it brought when it is not a repeat of the ticket's kind (an episode that
 * explains the ticket's joined it), and the deadline it tightened to.
 */
function mergeLabel(e: TimelineEntry, ticketKind: string): string {
  const d = (e.detail ?? {}) as { episode?: string; severity?: string; deadlineAt?: number };
  const kind = d.episode?.split('~')[1];
  const label = kind && kind !== ticketKind ? t('move.mergeOther', { kind: t(`kind.${kind}` as Key) }) : t('move.merge');
  return typeof d.deadlineAt === 'number' && d.severity
    ? `${label} · ${t('move.tightened', { at: clock(d.deadlineAt), severity: t(`severity.${d.severity}` as Key) })}`
    : label;
}

function timelineItem(e: TimelineEntry, ticketKind: string): string {
  const actor = actorName(e.actor);
  const moved = e.from && e.to && e.from !== e.to ? ` · ${t(`state.${e.from}`)} → ${t(`state.${e.to}`)}` : '';
  const label = e.action === 'merge' ? mergeLabel(e, ticketKind) : TIMELINE_ACTIONS.has(e.action) ? t(`move.${e.action}` as Key) : e.action;
  return `<li data-action="${esc(e.action)}"><time>${esc(clock(e.at))}</time> <b>${esc(label)}</b>${esc(moved)} · <span class="actor">${esc(actor)}</span>${
    e.reason ? ` · <q>${esc(e.reason)}</q>` : ''
  }</li>`;
}
