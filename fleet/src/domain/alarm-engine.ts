import type { Digest, Severity } from '@shouwang/protocol';
import { type AlarmRules, type AnyAlarmKind, type Category, type Priority, priorityOf } from './alarm-rules.ts';

/**
 * The alarm engine's decisions, as pure functions of the stored episode, the rules and one signal.
 * Alarm-management practice (ISA-18.2 / EEMUA 191) in data:
 *
 * - A *fingerprint* is one occurrence: unit + kind + the unit's occurrence id. Repeats of it (a
 *   unit re-sends after a reconnect, a digest lists it again) count on the same episode.
 * - An *episode* is what a person acts on. A new occurrence of a kind still active on the unit, or
 *   raised within `chatterWindowS` of its last clear (chattering), joins that episode; its id is
 *   the idempotency key its ticket carries.
 * - Lifecycle active → acknowledged → cleared; shelving (who, why, until) hides it from the
 *   console and keeps it out of the loop while shelved.
 * - *Inhibition* follows the unit's structure: an active `unit-offline` suppresses the unit's
 *   dependent alarms (camera lost, missed report) raised at or after it — in event time, so a
 *   back-filled offline still suppresses what it explains.
 * - Event time throughout: an alarm arriving `lateAfterS` after it happened is marked late and
 *   keeps both times.
 */

export type AlarmState = 'active' | 'acknowledged' | 'cleared';
export type AlarmSource = 'unit' | 'digest' | 'fleet';

export interface AlarmRecord {
  /** The episode id (the first occurrence's fingerprint): the ticket's idempotency key. */
  episode: string;
  unitId: string;
  kind: AnyAlarmKind;
  source: AlarmSource;
  severity: Severity;
  priority: Priority;
  category: Category;
  state: AlarmState;
  /** Event time of the first raise, ms. */
  raisedAt: number;
  /** When the first raise arrived, ms. */
  receivedAt: number;
  clearedAt: number | null;
  /** Last change by a signal or a person, ms of arrival. */
  updatedAt: number;
  late: boolean;
  /** Reports of an occurrence already known (same fingerprint). */
  repeats: number;
  /** Occurrences folded into this episode after the first (chattering or re-raised while active). */
  chatter: number;
  /** Episode of the unit's alarm that suppresses this one. */
  inhibitedBy: string | null;
  ackedBy: string | null;
  ackedAt: number | null;
  shelvedUntil: number | null;
  shelvedBy: string | null;
  shelveReason: string | null;
  lat: number | null;
  lon: number | null;
  value: number | null;
  message: string | null;
  ticketId: string | null;
}

export interface AlarmSignal {
  unitId: string;
  kind: AnyAlarmKind;
  /** The unit's occurrence id (protocol Alarm.id), or the fleet rule's. */
  occurrence: string;
  state: 'raised' | 'cleared';
  severity: Severity;
  source: AlarmSource;
  /** Event time, ms. */
  ts: number;
  receivedAt: number;
  lat?: number;
  lon?: number;
  value?: number;
  message?: string;
}

export interface SignalContext {
  /** The episode this fingerprint already belongs to. */
  known: AlarmRecord | undefined;
  /** The unit's latest episode of the same kind (for chattering and re-raises). */
  lastOfKind: AlarmRecord | undefined;
  /** The unit's episodes not cleared, for inhibition. */
  unitOpen: readonly AlarmRecord[];
}

export type AlarmEffect = 'opened' | 'repeated' | 'rejoined' | 'cleared' | 'ignored';

export interface Decision {
  effect: AlarmEffect;
  /** The episode after the signal; undefined when ignored. */
  record: AlarmRecord | undefined;
  /** What the ticket loop should do. */
  ticket: 'open' | 'merge' | 'none';
  /** Episodes this raise suppresses (dependents raised at or after it). */
  inhibits: string[];
  /**
   * With `open`: the ticket of an episode this raise suppresses, of the same category, which the
   * new episode joins (while it is open) instead of opening its own. The dependent can reach the
   * fleet first (the fleet saw the unit off its site before the unit's own breach arrived), and
   * one problem keeps one ticket, with the department it was already routed to.
   */
  joins: string | null;
}

export function fingerprint(unitId: string, kind: string, occurrence: string): string {
  return `${unitId}~${kind}~${occurrence}`;
}

/** The unit an episode id (a fingerprint) names: unit ids have no `~`. */
export function episodeUnit(episode: string): string {
  return episode.slice(0, Math.max(0, episode.indexOf('~')));
}

const IGNORED: Decision = { effect: 'ignored', record: undefined, ticket: 'none', inhibits: [], joins: null };

export function decide(rules: AlarmRules, ctx: SignalContext, s: AlarmSignal): Decision {
  return s.state === 'raised' ? raise(rules, ctx, s) : clear(ctx, s);
}

function raise(rules: AlarmRules, ctx: SignalContext, s: AlarmSignal): Decision {
  const rule = rules.kinds[s.kind];
  const evidence = {
    lat: s.lat ?? null,
    lon: s.lon ?? null,
    value: s.value ?? null,
    message: s.message ?? null,
  };
  const merge = (r: AlarmRecord, effect: 'repeated' | 'rejoined'): Decision => {
    const newer = s.ts >= r.raisedAt;
    const record: AlarmRecord = {
      ...r,
      ...(newer ? { ...evidence, severity: s.severity, priority: priorityOf(rule, s.severity) } : {}),
      state: effect === 'rejoined' ? 'active' : r.state,
      clearedAt: effect === 'rejoined' ? null : r.clearedAt,
      repeats: r.repeats + (effect === 'repeated' ? 1 : 0),
      chatter: r.chatter + (effect === 'rejoined' ? 1 : 0),
      updatedAt: s.receivedAt,
    };
    return { effect, record, ticket: record.ticketId ? 'merge' : 'none', inhibits: [], joins: null };
  };
  // A fleet-side condition already raised (by this instance or another watching the same unit)
  // is no news: only a unit's own reports count as repeats.
  if (s.source === 'fleet' && (ctx.known || (ctx.lastOfKind && ctx.lastOfKind.state !== 'cleared'))) return IGNORED;
  if (ctx.known) {
    // A re-sent raise from before the clear is history, not a new problem.
    const k = ctx.known;
    if (k.state === 'cleared' && k.clearedAt !== null && s.ts <= k.clearedAt) {
      const record = { ...k, repeats: k.repeats + 1, updatedAt: s.receivedAt };
      return { effect: 'repeated', record, ticket: k.ticketId ? 'merge' : 'none', inhibits: [], joins: null };
    }
    return merge(k, 'repeated');
  }
  const last = ctx.lastOfKind;
  if (last && last.state !== 'cleared') return merge(last, 'repeated');
  if (last && last.clearedAt !== null && s.ts - last.clearedAt <= rule.chatterWindowS * 1000) return merge(last, 'rejoined');
  const inhibitor = ctx.unitOpen.find((r) => rule.inhibitedBy.includes(r.kind) && r.raisedAt <= s.ts + rule.inhibitedLeadS * 1000);
  const record: AlarmRecord = {
    episode: fingerprint(s.unitId, s.kind, s.occurrence),
    unitId: s.unitId,
    kind: s.kind,
    source: s.source,
    severity: s.severity,
    priority: priorityOf(rule, s.severity),
    category: rule.category,
    state: 'active',
    raisedAt: s.ts,
    receivedAt: s.receivedAt,
    clearedAt: null,
    updatedAt: s.receivedAt,
    late: s.receivedAt - s.ts > rules.lateAfterS * 1000,
    repeats: 0,
    chatter: 0,
    inhibitedBy: inhibitor?.episode ?? null,
    ackedBy: null,
    ackedAt: null,
    shelvedUntil: null,
    shelvedBy: null,
    shelveReason: null,
    ...evidence,
    ticketId: null,
  };
  const inhibited = ctx.unitOpen.filter(
    (r) =>
      r.inhibitedBy === null &&
      rules.kinds[r.kind].inhibitedBy.includes(s.kind) &&
      r.raisedAt >= s.ts - rules.kinds[r.kind].inhibitedLeadS * 1000,
  );
  const joins = inhibited.find((r) => r.ticketId !== null && r.category === rule.category)?.ticketId ?? null;
  const ticket = rule.ticket && !inhibitor ? 'open' : 'none';
  return { effect: 'opened', record, ticket, inhibits: inhibited.map((r) => r.episode), joins: ticket === 'open' ? joins : null };
}

function clear(ctx: SignalContext, s: AlarmSignal): Decision {
  const r = ctx.known ?? (ctx.lastOfKind?.state !== 'cleared' ? ctx.lastOfKind : undefined);
  if (!r || r.state === 'cleared' || s.ts < r.raisedAt) return IGNORED;
  return {
    effect: 'cleared',
    record: { ...r, state: 'cleared', clearedAt: s.ts, updatedAt: s.receivedAt },
    ticket: 'none',
    inhibits: [],
    joins: null,
  };
}

/**
 * A satellite digest lists the unit's open alarms: each is a raise (an alarm seen only in a digest
 * still opens its episode), and an open unit alarm missing from a complete digest has cleared.
 * A digest that ran out of room (`alarmsMore`) proves nothing about the ones it left out.
 */
export function reconcileDigest(unitId: string, d: Digest, open: readonly AlarmRecord[], receivedAt: number): AlarmSignal[] {
  const listed = new Set(d.alarms.map((a) => a.kind));
  const raises: AlarmSignal[] = d.alarms.map((a) => ({
    unitId,
    kind: a.kind,
    occurrence: a.id,
    state: 'raised',
    severity: a.severity,
    source: 'digest',
    ts: a.since,
    receivedAt,
  }));
  if (d.alarmsMore !== undefined) return raises;
  const clears: AlarmSignal[] = open
    .filter((r) => r.source !== 'fleet' && !listed.has(r.kind as Digest['alarms'][number]['kind']))
    .map((r) => ({
      unitId,
      kind: r.kind,
      occurrence: r.episode,
      state: 'cleared',
      severity: r.severity,
      source: 'digest',
      ts: d.ts,
      receivedAt,
    }));
  return [...raises, ...clears];
}

/** Active, not acknowledged, and nothing has happened to it for `staleAfterH`. */
export function isStale(rules: AlarmRules, r: AlarmRecord, now: number): boolean {
  return r.state === 'active' && now - r.updatedAt > rules.kinds[r.kind].staleAfterH * 3_600_000;
}

export function isShelved(r: AlarmRecord, now: number): boolean {
  return r.shelvedUntil !== null && r.shelvedUntil > now;
}

export interface FloodReport {
  /** More than `count` alarms in the window ending now. */
  inFlood: boolean;
  /** Share of [from, to] spent in flood, 0..1. */
  floodShare: number;
  periods: { start: number; end: number }[];
  alarms: number;
  priorityMix: Record<Priority, number>;
}

/**
 * ISA-18.2 flood: more than `count` new alarms in any `windowS` (10 in 10 minutes per operator
 * position; here per district). Swept over arrival times: each arrival counts for one window.
 */
export function floodReport(
  rules: AlarmRules,
  arrivals: readonly { at: number; priority: Priority }[],
  from: number,
  to: number,
): FloodReport {
  const w = rules.flood.windowS * 1000;
  const edges: [number, number][] = [];
  for (const a of arrivals) edges.push([a.at, 1], [a.at + w, -1]);
  // Leaving before arriving at the same instant: a window is half-open.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const periods: { start: number; end: number }[] = [];
  let n = 0;
  let start: number | null = null;
  for (const [at, d] of edges) {
    n += d;
    if (start === null && n > rules.flood.count) start = at;
    else if (start !== null && n <= rules.flood.count) {
      periods.push({ start, end: at });
      start = null;
    }
  }
  if (start !== null) periods.push({ start, end: Number.POSITIVE_INFINITY });
  let inside = 0;
  for (const p of periods) inside += Math.max(0, Math.min(p.end, to) - Math.max(p.start, from));
  const priorityMix: Record<Priority, number> = { urgent: 0, high: 0, medium: 0, low: 0 };
  let alarms = 0;
  for (const a of arrivals) {
    if (a.at < from || a.at > to) continue;
    alarms++;
    priorityMix[a.priority]++;
  }
  return {
    inFlood: periods.some((p) => p.start <= to && p.end > to),
    floodShare: to > from ? inside / (to - from) : 0,
    periods: periods.map((p) => ({ start: p.start, end: Math.min(p.end, to) })),
    alarms,
    priorityMix,
  };
}
