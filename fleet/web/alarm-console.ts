import { SEVERITIES } from '@shouwang/protocol';
import { allowed } from './actions.ts';
import type { Api } from './api.ts';
import { areaName, learnNames } from './area-names.ts';
import { EvidenceList, type Occurrence } from './evidence-list.ts';
import type { FleetClock } from './fleet-clock.ts';
import { esc } from './html.ts';
import { t, translateStatic } from './i18n.ts';
import { actorName, explainLoop, loopRole, shortId } from './loop-actions.ts';
import { Beat, RECONCILE_MS } from './loop-beat.ts';
import type { AlarmList, AlarmPush, AlarmView, AreaNames, FloodDistrict, FloodPush } from './loop-model.ts';
import type { Session } from './model.ts';
import type { Key } from './strings.ts';
import { clock, span } from './time.ts';

export interface AlarmConsoleDeps {
  api: Api;
  /** The signed-in token, for the stored files an alarm's evidence shows. */
  token: () => string | null;
  session: () => Session;
  clock: FleetClock;
}

interface Row {
  el: HTMLElement;
  info: HTMLElement;
  actions: HTMLElement;
  /** The episode's comments, shown while its comment form is open or after one is added. */
  notes: HTMLElement;
  result: HTMLElement;
  /** What the row was last drawn from: unchanged, the row is not touched. */
  drawn: string;
  words: string;
  alarm: AlarmView;
}

/**
 * Rows laid out at once, in the console's order; more on request, and the filter finds any. All
 * rows are kept and patched; a thousand laid out would cost each answer to a click or a keystroke
 * ~200 ms of style and layout on a loaded machine (the unit list pages for the same reason).
 */
const PAGE = 100;
/** Parts of the open evidence arrive as the media uploads (nothing the alarm loop pushes): that one episode is asked again this often. */
const EVIDENCE_MS = 5000;
const SHELVE_MINUTES = [30, 60, 240, 480, 1440] as const;
const SEVERITY_RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]));

/**
 * The command's alarm console: open episodes by severity, then newest first (shelved and inhibited
 * ones below, dimmed, for what they are), the flood state per district on top, and the answers a
 * commander gives — acknowledge, shelve with a reason and an expiry, comment. Each episode is a
 * keyed row drawn once and redrawn only when the episode changes, and the order is CSS `order`, so
 * a thousand open alarms do not rebuild the list.
 *
 * What the fleet commits is pushed on the dashboard's stream (the changed rows, at most one push
 * per 250 ms); rows pushed within one animation frame are drawn, ordered and counted once, so a
 * storm costs the page a few redraws, not one per alarm. The whole list is asked for on opening,
 * on each (re)connection of the stream and every RECONCILE_MS: what no push carries (another
 * fleet instance's commits, a shelf or staleness running out with time) shows then.
 */
export class AlarmConsole {
  readonly #root: HTMLElement;
  readonly #deps: AlarmConsoleDeps;
  readonly #rows = new Map<string, Row>();
  readonly #list: HTMLElement;
  readonly #flood: HTMLElement;
  readonly #count: HTMLElement;
  readonly #filter: HTMLInputElement;
  readonly #more: HTMLButtonElement;
  #listed = PAGE;
  readonly #beat: Beat;
  /** Pushed rows and flood state not drawn yet: drawn at the next animation frame. */
  #frame: { rows: Set<Row>; flood: FloodDistrict[] | null } | null = null;
  /** Episodes pushed while a full answer is on its way, with their time: that answer may be older. */
  #pushed: Map<string, number> | null = null;
  /** The one episode whose evidence is open under its row. */
  #evidence: { row: Row; list: EvidenceList; pane: HTMLElement; status: HTMLElement; timer: ReturnType<typeof setInterval> } | null = null;

  constructor(root: HTMLElement, deps: AlarmConsoleDeps) {
    this.#root = root;
    this.#deps = deps;
    root.classList.add('alarm-console');
    root.innerHTML = `<div class="flood" aria-live="assertive"></div>
<div class="console-head"><h2 data-i18n="alarm.title"></h2><span class="count" aria-live="polite"></span>
<input type="search" class="alarm-filter" data-i18n-placeholder="alarm.filter" data-i18n-aria="alarm.filter"></div>
<p class="dim note"><span data-i18n="alarm.clearNote"></span> <span class="status"></span></p>
<p class="read-only" hidden></p>
<div class="alarm-list" role="list"></div>
<button type="button" class="more" hidden></button>`;
    this.#flood = root.querySelector('.flood') as HTMLElement;
    this.#count = root.querySelector('.count') as HTMLElement;
    this.#list = root.querySelector('.alarm-list') as HTMLElement;
    this.#beat = new Beat(RECONCILE_MS, (superseded) => this.#ask(superseded), root.querySelector('.status'));
    this.#filter = root.querySelector('.alarm-filter') as HTMLInputElement;
    translateStatic(root);
    this.#more = root.querySelector('button.more') as HTMLButtonElement;
    this.#filter.addEventListener('input', () => {
      this.#listed = PAGE;
      this.#arrange();
    });
    this.#more.addEventListener('click', () => {
      this.#listed += PAGE;
      this.#arrange();
    });
    this.#list.addEventListener('click', (e) => this.#click(e));
    this.#list.addEventListener('submit', (e) => this.#submit(e));
  }

  open(): void {
    this.#root.hidden = false;
    this.#sayRole();
    this.#beat.start();
  }

  /** A role that may not answer alarms is told once, at the top, not on every button. */
  #sayRole(): void {
    const note = this.#root.querySelector('.read-only') as HTMLElement;
    const session = this.#deps.session();
    note.hidden = allowed(session, 'answer-alarms');
    note.textContent = t('alarm.readOnly', {
      role: t(`role.${session.role ?? 'none'}` as Key),
      needs: t(`role.${loopRole('answer-alarms')}`),
    });
  }

  close(): void {
    this.#root.hidden = true;
    this.#beat.stop();
    this.#closeEvidence();
  }

  /** The language changed: every row is drawn again once (their text is all labels). */
  relabel(): void {
    for (const row of this.#rows.values()) {
      row.drawn = '';
      this.#draw(row, this.#deps.clock.now());
    }
    this.#arrange();
    this.#summarize();
    this.#sayRole();
    this.#evidence?.list.relabel();
    if (!this.#root.hidden) void this.#beat.run();
  }

  /** The stream (re)connected: an open console asks in full once. */
  reconcile(): void {
    if (this.#beat.on) void this.#beat.run();
  }

  /** Episodes the fleet changed: upserted (a cleared one removed), drawn at the next frame. */
  push(e: AlarmPush): void {
    if (!this.#beat.on) return;
    this.#deps.clock.sync(e.now);
    learnNames(e.names);
    const frame = this.#nextFrame();
    for (const a of e.alarms) {
      this.#pushed?.set(a.episode, a.updatedAt);
      const row = this.#rows.get(a.episode);
      if (row && row.alarm.updatedAt > a.updatedAt) continue;
      if (a.state === 'cleared') {
        if (row) this.#remove(a.episode, row);
        if (row) frame.rows.delete(row);
        continue;
      }
      if (row) row.alarm = a;
      frame.rows.add(row ?? this.#add(a));
    }
    this.#beat.heard(e.now);
  }

  pushFlood(e: FloodPush): void {
    if (!this.#beat.on) return;
    learnNames(e.names);
    this.#nextFrame().flood = e.districts;
  }

  #nextFrame(): { rows: Set<Row>; flood: FloodDistrict[] | null } {
    if (this.#frame) return this.#frame;
    const frame = { rows: new Set<Row>(), flood: null };
    this.#frame = frame;
    requestAnimationFrame(() => {
      this.#frame = null;
      const now = this.#deps.clock.now();
      for (const row of frame.rows) this.#draw(row, now);
      if (frame.flood) this.#drawFlood(frame.flood);
      this.#arrange();
      this.#summarize();
    });
    return frame;
  }

  #add(a: AlarmView): Row {
    const row = build(a);
    this.#rows.set(a.episode, row);
    this.#list.append(row.el);
    return row;
  }

  #remove(episode: string, row: Row): void {
    if (this.#evidence?.row === row) this.#closeEvidence();
    row.el.remove();
    this.#rows.delete(episode);
  }

  async #ask(superseded: () => boolean): Promise<number | null> {
    const pushed = new Map<string, number>();
    this.#pushed = pushed;
    const [list, flood] = await Promise.all([
      this.#deps.api.get<AlarmList>('/api/alarms?limit=5000'),
      this.#deps.api.get<{ districts: FloodDistrict[]; names: AreaNames }>('/api/alarms/flood'),
    ]);
    if (superseded()) return null;
    if (this.#pushed === pushed) this.#pushed = null;
    this.#deps.clock.sync(list.now);
    learnNames(list.names);
    learnNames(flood.names);
    this.#apply(list.alarms, pushed);
    this.#drawFlood(flood.districts);
    return list.now;
  }

  /** A full answer; an episode pushed while it was on its way keeps the pushed row if that is as new. */
  #apply(alarms: readonly AlarmView[], pushed: ReadonlyMap<string, number>): void {
    const now = this.#deps.clock.now();
    const seen = new Set<string>();
    let changed = false;
    for (const a of alarms) {
      seen.add(a.episode);
      const p = pushed.get(a.episode);
      if (p !== undefined && p >= a.updatedAt) continue;
      const row = this.#rows.get(a.episode);
      if (row) row.alarm = a;
      else {
        this.#add(a);
        changed = true;
      }
    }
    // Cleared since the last answer: gone from the console.
    for (const [episode, row] of this.#rows)
      if (!seen.has(episode) && !pushed.has(episode)) {
        this.#remove(episode, row);
        changed = true;
      }
    // Drawn once every episode is known: a row names the episode that inhibits it.
    for (const row of this.#rows.values()) if (this.#draw(row, now)) changed = true;
    // An answer that changed nothing (most of them) costs the page no order or layout.
    if (!changed && this.#count.textContent) return;
    this.#arrange();
    this.#summarize();
  }

  #summarize(): void {
    let active = 0;
    let acked = 0;
    let shelved = 0;
    let inhibited = 0;
    for (const { alarm } of this.#rows.values()) {
      if (alarm.shelved) shelved++;
      else if (alarm.inhibitedBy) inhibited++;
      else if (alarm.state === 'acknowledged') acked++;
      else active++;
    }
    this.#count.textContent = this.#rows.size ? t('alarm.count', { active, acked, shelved, inhibited }) : t('alarm.none');
  }

  /**
   * The filter and the page, then order (CSS `order`, nothing moved): only the first rows that match
   * are laid out, and only those are given their place (a hidden row's is set when it shows), so a
   * push that slots rows in the middle does not restyle the thousand below the page.
   */
  #arrange(): void {
    const q = this.#filter.value.trim().toLowerCase();
    const sorted = [...this.#rows.values()].sort((x, y) => rank(x.alarm) - rank(y.alarm) || y.alarm.raisedAt - x.alarm.raisedAt);
    let matching = 0;
    sorted.forEach((row, i) => {
      const match = q === '' || row.words.includes(q);
      // A row being answered (a form open, its evidence shown) stays laid out when a push moves it past the page.
      const busy = this.#evidence?.row === row || row.el.querySelector('form') !== null;
      const hide = !match || (matching >= this.#listed && !busy);
      if (match) matching++;
      if (row.el.hidden !== hide) row.el.hidden = hide;
      const o = String(i);
      if (!hide && row.el.style.order !== o) row.el.style.order = o;
    });
    this.#more.hidden = matching <= this.#listed;
    if (!this.#more.hidden)
      this.#more.textContent = t('alarm.more', { shown: this.#listed, total: matching, n: Math.min(PAGE, matching - this.#listed) });
  }

  /** Draws the row if its episode changed since it was drawn; true when it did. */
  #draw(row: Row, now: number): boolean {
    const a = row.alarm;
    const session = this.#deps.session();
    const may = allowed(session, 'answer-alarms');
    const open = this.#evidence?.row === row;
    const key = `${a.updatedAt}|${a.state}|${a.stale}|${a.shelved}|${a.inhibitedBy}|${a.repeats}|${a.chatter}|${a.ticketId}|${may}|${open}`;
    if (row.drawn === key) return false;
    row.drawn = key;
    const kind = t(`kind.${a.kind}` as Key);
    const district = a.district ? areaName(a.district) : t('alarm.noDistrict');
    row.el.className = `alarm sev-${a.severity} state-${a.state}${a.shelved || a.inhibitedBy ? ' set-aside' : ''}${a.stale ? ' stale' : ''}`;
    const flags: [cls: string, text: string][] = [];
    if (a.late) flags.push(['late', t('alarm.late', { span: span(a.receivedAt - a.raisedAt), time: clock(a.receivedAt) })]);
    if (a.stale) flags.push(['stale', t('alarm.stale')]);
    if (a.chatter > 0) flags.push(['chatter', t('alarm.chatter', { n: a.chatter })]);
    if (a.repeats > 0) flags.push(['repeats', t('alarm.repeats', { n: a.repeats })]);
    if (a.inhibitedBy) flags.push(['inhibited', t('alarm.inhibited', { kind: this.#kindOf(a.inhibitedBy) })]);
    if (a.shelved && a.shelvedUntil !== null)
      flags.push([
        'shelved',
        t('alarm.shelved', { until: clock(a.shelvedUntil), who: actorName(a.shelvedBy ?? ''), reason: a.shelveReason ?? '' }),
      ]);
    if (a.state === 'acknowledged' && a.ackedAt !== null)
      flags.push(['acked', t('alarm.acked', { who: actorName(a.ackedBy ?? ''), time: clock(a.ackedAt) })]);
    const state = t(`alarm.state.${a.state}`);
    const severity = t(`severity.${a.severity}`);
    // What the filter finds a row by: what it says, flags included ("shelved", "stale", "迟到").
    row.words = [a.unitId, kind, a.kind, a.district ?? '', district, severity, state, ...flags.map(([, text]) => text)]
      .join(' ')
      .toLowerCase();
    const unit = esc(a.unitId);
    row.info.innerHTML = `<span class="badge sev">${esc(severity)}</span>
<b class="kind">${esc(kind)}</b> <a class="unit" href="#/unit/${encodeURIComponent(a.unitId)}">${unit}</a>
<span class="district">${esc(district)}</span>
<span class="when" title="${esc(span(Math.max(0, now - a.raisedAt)))}">${esc(t('alarm.raised', { time: clock(a.raisedAt) }))}</span>
<span class="state">${esc(state)}</span>
${a.ticketId ? `<a class="ticket" href="#/ticket/${encodeURIComponent(a.ticketId)}" title="${esc(a.ticketId)}">${esc(t('alarm.ticket'))} ${esc(shortId(a.ticketId))}</a>` : ''}
${flags.length ? `<ul class="flags">${flags.map(([cls, text]) => `<li class="${cls}">${esc(text)}</li>`).join('')}</ul>` : ''}`;
    const cls = may ? '' : ' not-allowed';
    row.actions.innerHTML = `${a.state === 'active' ? `<button type="button" data-do="ack" class="primary${cls}">${esc(t('alarm.ack'))}</button>` : ''}
<button type="button" data-do="shelve" class="${cls}">${esc(t('alarm.shelve'))}</button>
<button type="button" data-do="comment" class="${cls}">${esc(t('alarm.comment'))}</button>
${a.source === 'fleet' ? '' : `<button type="button" data-do="evidence" aria-expanded="${open}">${esc(t(open ? 'evidence.hide' : 'evidence.show'))}</button>`}`;
    return true;
  }

  /** The kind of an episode on the console (the one inhibiting another is open too), else its id. */
  #kindOf(episode: string): string {
    const by = this.#rows.get(episode)?.alarm.kind;
    return by ? t(`kind.${by}` as Key) : episode;
  }

  #drawFlood(districts: readonly FloodDistrict[]): void {
    const flooding = districts.filter((d) => d.inFlood);
    const pct = (x: number) => `${Math.round(x * 100)} %`;
    const mix = (d: FloodDistrict) =>
      Object.entries(d.priorityMix)
        .filter(([, n]) => n > 0)
        .map(([p, n]) => `${t(`priority.${p}` as Key)} ${n}`)
        .join(' · ');
    const html = flooding.length
      ? flooding
          .map(
            (d) =>
              `<p class="flood-banner" data-district="${esc(d.district)}"><b>${esc(t('flood.banner', { district: districtName(d.district), n: 10 }))}</b> · ${esc(
                t('flood.share', { share: pct(d.floodShare) }),
              )} · ${esc(t('flood.mix', { mix: mix(d) }))}</p>`,
          )
          .join('')
      : `<p class="flood-calm dim">${esc(
          t('flood.calm', {
            list: districts.map((d) => `${districtName(d.district)} ${d.alarms} · ${pct(d.floodShare)}`).join('; ') || '—',
          }),
        )}</p>`;
    if (this.#flood.innerHTML !== html) this.#flood.innerHTML = html;
  }

  #click(e: Event): void {
    const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-do]');
    const el = b?.closest<HTMLElement>('article.alarm');
    const row = el?.dataset.episode ? this.#rows.get(el.dataset.episode) : undefined;
    if (!b || !row) return;
    const what = b.dataset.do;
    if (what === 'ack') void this.#act(row, 'acknowledge', {});
    else if (what === 'shelve' || what === 'comment') this.#form(row, what);
    else if (what === 'evidence') void this.#toggleEvidence(row);
    else if (what === 'cancel') row.el.querySelector('form')?.remove();
  }

  /** Opens the episode's evidence under its row (closing any other), or closes it. */
  async #toggleEvidence(row: Row): Promise<void> {
    const was = this.#evidence?.row;
    this.#closeEvidence();
    if (was === row) return;
    const pane = document.createElement('section');
    pane.className = 'evidence-pane';
    pane.innerHTML = '<p class="evidence-status dim" aria-live="polite"></p>';
    const list = new EvidenceList({ api: this.#deps.api, token: this.#deps.token });
    pane.append(list.element);
    row.el.append(pane);
    const status = pane.querySelector('.evidence-status') as HTMLElement;
    status.textContent = '…';
    const superseded = () => this.#evidence?.row !== row;
    const timer = setInterval(() => void this.#loadEvidence(superseded), EVIDENCE_MS);
    this.#evidence = { row, list, pane, status, timer };
    this.#redraw(row);
    await this.#loadEvidence(superseded);
  }

  /** The units' alarms behind the open episode, and their evidence as it stands. */
  async #loadEvidence(superseded: () => boolean): Promise<void> {
    const open = this.#evidence;
    if (!open) return;
    const episode = open.row.alarm.episode;
    try {
      const { occurrences } = await this.#deps.api.get<{ occurrences: Occurrence[] }>(`/api/alarms/${encodeURIComponent(episode)}`);
      if (superseded() || this.#evidence !== open) return;
      await open.list.show(open.row.alarm.unitId, occurrences);
      if (this.#evidence !== open) return;
      open.status.textContent = open.list.empty ? t('evidence.noneYet') : '';
      open.status.hidden = !open.list.empty;
    } catch (err) {
      if (this.#evidence === open) open.status.textContent = t('evidence.loadFailed', { message: (err as Error).message });
    }
  }

  #closeEvidence(): void {
    const open = this.#evidence;
    if (!open) return;
    this.#evidence = null;
    clearInterval(open.timer);
    open.list.clear();
    open.pane.remove();
    this.#redraw(open.row);
  }

  #redraw(row: Row): void {
    row.drawn = '';
    this.#draw(row, this.#deps.clock.now());
  }

  #form(row: Row, what: 'shelve' | 'comment'): void {
    row.el.querySelector('form')?.remove();
    const form = document.createElement('form');
    form.className = `alarm-form ${what}`;
    form.dataset.do = what;
    form.innerHTML =
      what === 'shelve'
        ? `<label>${esc(t('alarm.shelveReason'))}<input name="reason" required maxlength="500"></label>
<label>${esc(t('alarm.shelveFor'))}<select name="minutes">${SHELVE_MINUTES.map(
            (m) => `<option value="${m}">${esc(m < 60 ? t('alarm.minutes', { n: m }) : t('alarm.hours', { n: m / 60 }))}</option>`,
          ).join('')}</select></label>
<button type="submit" class="primary">${esc(t('alarm.shelveSubmit'))}</button>`
        : `<label>${esc(t('alarm.commentText'))}<input name="text" required maxlength="2000"></label>
<button type="submit" class="primary">${esc(t('alarm.commentSubmit'))}</button>`;
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.dataset.do = 'cancel';
    cancel.textContent = t('alarm.cancel');
    form.append(cancel);
    row.actions.after(form);
    form.querySelector('input')?.focus();
    if (what === 'comment')
      void this.#deps.api
        .get<{ comments: AlarmComment[] }>(`/api/alarms/${encodeURIComponent(row.alarm.episode)}`)
        .then((r) => drawComments(row, r.comments))
        .catch(() => undefined);
  }

  #submit(e: Event): void {
    const form = (e.target as HTMLElement).closest('form');
    const el = form?.closest<HTMLElement>('article.alarm');
    const row = el?.dataset.episode ? this.#rows.get(el.dataset.episode) : undefined;
    if (!form || !row) return;
    e.preventDefault();
    const data = new FormData(form);
    if (form.dataset.do === 'shelve')
      void this.#act(row, 'shelve', { reason: String(data.get('reason') ?? ''), minutes: Number(data.get('minutes')) });
    else void this.#act(row, 'comments', { text: String(data.get('text') ?? '') });
  }

  async #act(row: Row, path: 'acknowledge' | 'shelve' | 'comments', body: Record<string, unknown>): Promise<void> {
    const episode = row.alarm.episode;
    row.result.className = 'result';
    row.result.textContent = '…';
    try {
      const answer = await this.#deps.api.post<{ comments?: AlarmComment[] }>(`/api/alarms/${encodeURIComponent(episode)}/${path}`, body);
      if (answer.comments) drawComments(row, answer.comments);
      row.el.querySelector('form')?.remove();
      row.result.textContent = path === 'comments' ? t('alarm.commentAdded') : '';
    } catch (err) {
      row.result.className = 'result refused';
      row.result.textContent = explainLoop(err, 'answer-alarms', this.#deps.session());
      // The state that refused it shows at once (a push of its cause may have been missed).
      await this.#beat.run();
    }
    // An answer taken is pushed to every open console, this one too.
  }
}

/** Set-aside episodes (shelved, inhibited) go below; the rest by severity, unacknowledged first. */
function rank(a: AlarmView): number {
  const aside = a.shelved || a.inhibitedBy ? 100 : 0;
  return aside + (SEVERITY_RANK.get(a.severity) ?? 9) * 2 + (a.state === 'acknowledged' ? 1 : 0);
}

/** The flood report's district; '(none)' gathers alarms from outside every district. */
function districtName(d: string): string {
  return d === '(none)' ? t('ticket.outsideGrid') : areaName(d);
}

interface AlarmComment {
  at: number;
  author: string;
  text: string;
}

function drawComments(row: Row, comments: readonly AlarmComment[]): void {
  row.notes.innerHTML = comments
    .map((c) => `<li><time>${esc(clock(c.at))}</time> <span class="actor">${esc(actorName(c.author))}</span>: ${esc(c.text)}</li>`)
    .join('');
}

function build(a: AlarmView): Row {
  const el = document.createElement('article');
  el.dataset.episode = a.episode;
  el.setAttribute('role', 'listitem');
  const info = document.createElement('div');
  info.className = 'info';
  const actions = document.createElement('div');
  actions.className = 'buttons';
  const result = document.createElement('p');
  result.className = 'result';
  result.setAttribute('aria-live', 'polite');
  const notes = document.createElement('ol');
  notes.className = 'comments';
  el.append(info, actions, notes, result);
  return { el, info, actions, notes, result, drawn: '', words: '', alarm: a };
}
