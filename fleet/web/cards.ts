import type { Condition } from './condition.ts';
import { FIELDS, type FieldContext, type FieldName, type Fields, fieldClass, LISTED, unitFields } from './fields.ts';
import { t } from './i18n.ts';
import type { Row } from './model.ts';
import type { Key } from './strings.ts';

interface Card {
  el: HTMLElement;
  nodes: Record<FieldName, HTMLElement>;
  last: Partial<Record<FieldName, string>>;
  cond: string;
}

/**
 * The unit list, keyed by unit id: each card is built once and then patched field by field, so a
 * reading touches the nodes it changes and nothing else (a page of 1,000 units stays responsive,
 * and whatever a later view embeds in a card is not torn down by an update). Filter and sort move
 * nothing: hidden cards get `hidden`, the order is the cards' CSS `order`.
 */
export class CardList {
  readonly #root: HTMLElement;
  readonly #cards = new Map<string, Card>();
  readonly #order = new Map<string, number>();

  constructor(root: HTMLElement, onOpen: (id: string) => void) {
    this.#root = root;
    root.addEventListener('click', (e) => {
      const card = (e.target as HTMLElement).closest<HTMLElement>('article.card');
      if (card?.dataset.unit) onOpen(card.dataset.unit);
    });
    root.addEventListener('keydown', (e) => {
      const card = (e.target as HTMLElement).closest<HTMLElement>('article.card');
      if (card?.dataset.unit && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        onOpen(card.dataset.unit);
      }
    });
  }

  get size(): number {
    return this.#cards.size;
  }

  upsert(row: Row, ctx: FieldContext, cond: Condition): void {
    let card = this.#cards.get(row.id);
    if (!card) {
      card = build(row.id);
      this.#cards.set(row.id, card);
      this.#root.append(card.el);
    }
    patch(card, unitFields(row, ctx), cond);
  }

  /** Shows `ids` in this order and hides the rest; answers the ids that were hidden until now. */
  arrange(ids: readonly string[]): string[] {
    const shown = new Set(ids);
    const revealed: string[] = [];
    ids.forEach((id, i) => {
      const card = this.#cards.get(id);
      if (!card) return;
      if (card.el.hidden) {
        card.el.hidden = false;
        revealed.push(id);
      }
      if (this.#order.get(id) !== i) {
        this.#order.set(id, i);
        card.el.style.order = String(i);
      }
    });
    for (const [id, card] of this.#cards) if (!shown.has(id) && !card.el.hidden) card.el.hidden = true;
    return revealed;
  }

  /** Ids of the cards on the list now (not hidden by the filter or the page size). */
  shown(): string[] {
    return [...this.#cards].flatMap(([id, card]) => (card.el.hidden ? [] : [id]));
  }

  /** The language changed: labels are rebuilt, values re-patched on the next upsert. */
  relabel(): void {
    for (const card of this.#cards.values()) {
      for (const dt of card.el.querySelectorAll<HTMLElement>('dt[data-label]')) dt.textContent = t(dt.dataset.label as Key);
      card.last = {};
    }
  }
}

function build(id: string): Card {
  const el = document.createElement('article');
  el.className = 'card';
  el.dataset.unit = id;
  el.tabIndex = 0;
  const head = document.createElement('header');
  const h2 = document.createElement('h2');
  h2.textContent = id;
  const nodes = {} as Record<FieldName, HTMLElement>;
  const node = (name: FieldName, tag = 'span'): HTMLElement => {
    const n = document.createElement(tag);
    n.dataset.field = name;
    nodes[name] = n;
    return n;
  };
  head.append(h2, node('alarm'), node('liveness'));
  const where = document.createElement('p');
  where.className = 'where';
  where.append(node('site'), ' ', node('grid'));
  const bar = document.createElement('div');
  bar.className = 'bar';
  bar.append(node('bar', 'i'));
  const dl = document.createElement('dl');
  for (const name of LISTED) {
    const dt = document.createElement('dt');
    dt.dataset.label = `field.${name}`;
    dt.textContent = t(`field.${name}`);
    dl.append(dt, node(name, 'dd'));
  }
  el.append(head, where, bar, dl);
  return { el, nodes, last: {}, cond: '' };
}

function patch(card: Card, fields: Fields, cond: Condition): void {
  for (const name of FIELDS) {
    const { text, cls } = fields[name];
    const key = `${cls}|${text}`;
    if (card.last[name] === key) continue;
    card.last[name] = key;
    const n = card.nodes[name];
    if (name === 'bar') {
      n.style.width = `${text || 0}%`;
      n.className = cls;
      continue;
    }
    n.textContent = text;
    n.className = fieldClass(name, cls);
  }
  const c = `card ${cond.level} cause-${cond.cause}`;
  if (card.cond !== c) {
    card.cond = c;
    card.el.className = c;
  }
}
