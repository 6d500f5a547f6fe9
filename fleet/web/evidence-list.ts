import type { Api } from './api.ts';
import { EvidenceView, evidenceSheet } from './evidence-view.ts';
import { t } from './i18n.ts';
import { clock } from './time.ts';

/** One of the units' alarms behind an episode or a ticket (`alarmOccurrences` in fleet/src/storage/alarm-occurrences.ts). */
export interface Occurrence {
  alarmId: string;
  episode: string;
  raisedAt: number | null;
}

interface Item {
  box: HTMLElement;
  view: EvidenceView;
  raisedAt: number | null;
}

/**
 * The evidence of several of a unit's alarms — every one merged into a ticket, or the occurrences
 * of one episode on the alarm console — each in its own evidence view under the time it was
 * raised, newest first. Views are kept across the page's beats (a playing clip is never
 * restarted); an alarm with no evidence at all takes no room.
 */
export class EvidenceList {
  readonly element: HTMLElement;
  readonly #deps: { api: Api; token: () => string | null };
  readonly #items = new Map<string, Item>();
  #unit: string | null = null;

  constructor(deps: { api: Api; token: () => string | null }) {
    this.#deps = deps;
    evidenceSheet();
    this.element = document.createElement('div');
    this.element.className = 'evidence-list';
  }

  /** Shows (and reloads) the evidence of these alarms of `unit`: called on each of the page's beats. */
  async show(unit: string, alarms: readonly Occurrence[]): Promise<void> {
    if (unit !== this.#unit) this.clear();
    this.#unit = unit;
    const wanted = new Set(alarms.map((a) => a.alarmId));
    for (const [id, item] of this.#items)
      if (!wanted.has(id)) {
        item.view.clear();
        item.box.remove();
        this.#items.delete(id);
      }
    for (const a of alarms) {
      let item = this.#items.get(a.alarmId);
      if (!item) {
        const box = document.createElement('section');
        box.className = 'evidence-alarm';
        box.dataset.alarm = a.alarmId;
        box.innerHTML = '<h4 class="evidence-when"></h4>';
        const view = new EvidenceView(this.#deps);
        box.append(view.element);
        item = { box, view, raisedAt: a.raisedAt };
        this.#items.set(a.alarmId, item);
        this.element.append(item.box);
      }
      item.raisedAt = a.raisedAt;
    }
    await Promise.all([...this.#items].map(([id, item]) => item.view.show(unit, id)));
    this.#arrange();
  }

  /** None of the alarms has anything to show. */
  get empty(): boolean {
    return [...this.#items.values()].every((i) => i.view.empty);
  }

  relabel(): void {
    for (const item of this.#items.values()) item.view.relabel();
    this.#arrange();
  }

  clear(): void {
    for (const item of this.#items.values()) item.view.clear();
    this.#items.clear();
    this.element.replaceChildren();
    this.#unit = null;
  }

  /** Newest first, by when each alarm was raised (an occurrence folded into an episode: its first part's time). */
  #arrange(): void {
    const at = (i: Item) => i.raisedAt ?? i.view.since ?? 0;
    const items = [...this.#items.values()].sort((x, y) => at(y) - at(x));
    items.forEach((item, n) => {
      item.box.hidden = item.view.empty;
      item.box.style.order = String(n);
      const when = at(item);
      (item.box.querySelector('.evidence-when') as HTMLElement).textContent = when ? t('evidence.alarmAt', { time: clock(when) }) : '';
    });
  }
}
