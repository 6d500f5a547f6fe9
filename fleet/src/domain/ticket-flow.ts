import { SEVERITIES, type Severity, StringEnum, TICKET_STATES, type TicketState } from '@shouwang/protocol';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CATEGORIES, type Category } from './alarm-rules.ts';
import type { Action } from './roles.ts';
import type { Duration } from './working-time.ts';

/**
 * The work-order loop as data: discover → report → dispatch → sign for → handle → feedback →
 * close, plus return (the department sends a misrouted ticket back to the dispatcher, who
 * re-dispatches it) and reopen (unsatisfied feedback: the ticket goes back to handling and counts
 * as rework). Escalation to supervision is a mark on an open ticket, not a state: the department
 * still has to do the work. Only the moves listed here are accepted.
 */
// The states are on the wire (the flows contract), so the protocol defines them.
export { TICKET_STATES, type TicketState };

export const TICKET_ACTIONS = ['report', 'dispatch', 'sign', 'return', 'handle', 'feedback', 'close', 'reopen', 'escalate'] as const;
export type TicketAction = (typeof TICKET_ACTIONS)[number];

interface Move {
  from: readonly TicketState[];
  /** null: the state stays (escalation). */
  to: TicketState | null;
  /** What the caller's role must be allowed (`system` moves come from the fleet itself). */
  role: Action | 'system';
  reason: 'required' | 'optional';
}

const OPEN: readonly TicketState[] = ['discovered', 'reported', 'dispatched', 'signed-for', 'handling', 'feedback', 'returned'];

export const MOVES: Record<TicketAction, Move> = {
  report: { from: ['discovered'], to: 'reported', role: 'system', reason: 'optional' },
  dispatch: { from: ['reported', 'returned'], to: 'dispatched', role: 'dispatch', reason: 'optional' },
  sign: { from: ['dispatched'], to: 'signed-for', role: 'handle', reason: 'optional' },
  return: { from: ['dispatched', 'signed-for'], to: 'returned', role: 'handle', reason: 'required' },
  handle: { from: ['signed-for'], to: 'handling', role: 'handle', reason: 'optional' },
  feedback: { from: ['handling'], to: 'feedback', role: 'handle', reason: 'required' },
  close: { from: ['feedback'], to: 'closed', role: 'dispatch', reason: 'optional' },
  reopen: { from: ['feedback', 'closed'], to: 'handling', role: 'dispatch', reason: 'required' },
  escalate: { from: OPEN, to: null, role: 'supervise', reason: 'required' },
};

export function isOpen(state: TicketState): boolean {
  return state !== 'closed';
}

export type MoveCheck = { ok: true; to: TicketState } | { ok: false; code: 'CONFLICT' | 'REASON_REQUIRED'; message: string };

/** Whether `action` may be taken from `state`: the state machine's only gate. */
export function checkMove(state: TicketState, action: TicketAction, reason: string | undefined): MoveCheck {
  const m = MOVES[action];
  if (!m.from.includes(state))
    return { ok: false, code: 'CONFLICT', message: `cannot ${action} a ticket that is ${state} (allowed from ${m.from.join(', ')})` };
  if (m.reason === 'required' && !reason?.trim()) return { ok: false, code: 'REASON_REQUIRED', message: `${action} needs a reason` };
  return { ok: true, to: m.to ?? state };
}

/**
 * A ticket's opening — discovered, reported, and dispatched when its grid cell routed it — is
 * logged as one event, `open`, to the state it reached, its detail holding what each move's
 * would (episode and kind; department and team): a storm's tickets write one row each for it, not
 * three. Readers of the log (the timeline, the KPIs) see the moves it stands for, in order.
 */
export const OPENING = 'open';

const OPENING_MOVES = [
  { action: 'discover', from: null, to: 'discovered', reason: null, keys: ['episode', 'kind'] },
  { action: 'report', from: 'discovered', to: 'reported', reason: null, keys: [] },
  { action: 'dispatch', from: 'reported', to: 'dispatched', reason: 'routed by grid cell', keys: ['department', 'team'] },
] as const;

export type OpeningMove = (typeof OPENING_MOVES)[number];

/** The moves an opening to `to` (reported or dispatched) stands for. */
export function openingMoves(to: string | null): readonly OpeningMove[] {
  return OPENING_MOVES.slice(0, to === 'dispatched' ? 3 : 2);
}

/** A move's detail as it would have been logged on its own: its keys of the opening's detail, or null. */
export function openingDetail(m: OpeningMove, detail: Record<string, unknown>): string | null {
  return m.keys.length === 0 ? null : JSON.stringify(Object.fromEntries(m.keys.map((k) => [k, detail[k]])));
}

/** Traffic light of an open ticket against its deadline. */
export type Light = 'green' | 'yellow' | 'red';

export interface DeadlineRule {
  category?: Category;
  severity?: Severity;
  close: Duration;
  /** Yellow once this share of the time to the deadline has passed. */
  yellowAt: number;
  /** Escalated to supervision this long after the deadline (red). */
  escalateAfter: Duration;
}

/** The first rule matching category and severity (a rule without one matches any). */
export function deadlineRule(rules: readonly DeadlineRule[], category: Category, severity: Severity): DeadlineRule {
  const r = rules.find((x) => (x.category ?? category) === category && (x.severity ?? severity) === severity);
  if (!r) throw new Error(`no deadline rule for ${category}/${severity}: the last rule should match any`);
  return r;
}

/**
 * Shipped deadlines: an intrusion or a fire is handled round the clock in hours; the unit's own
 * troubles and the rest in working time, as the city's departments work.
 */
export const DEFAULT_DEADLINES: DeadlineRule[] = [
  { category: 'fire-safety', close: { hours: 2 }, yellowAt: 0.5, escalateAfter: { hours: 0.5 } },
  { category: 'public-security', severity: 'critical', close: { hours: 4 }, yellowAt: 0.5, escalateAfter: { hours: 1 } },
  { category: 'public-security', close: { workingHours: 8 }, yellowAt: 0.75, escalateAfter: { workingHours: 1 } },
  { category: 'unit-maintenance', close: { workingDays: 2 }, yellowAt: 0.75, escalateAfter: { workingHours: 4 } },
  { close: { workingDays: 1 }, yellowAt: 0.75, escalateAfter: { workingHours: 2 } },
];

const DurationSchema = Type.Union([
  Type.Object({ hours: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
  Type.Object({ workingHours: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
  Type.Object({ workingDays: Type.Number({ minimum: 0 }) }, { additionalProperties: false }),
]);

const DeadlineRulesSchema = Type.Array(
  Type.Object(
    {
      category: Type.Optional(StringEnum(CATEGORIES)),
      severity: Type.Optional(StringEnum(SEVERITIES)),
      close: DurationSchema,
      yellowAt: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
      escalateAfter: DurationSchema,
    },
    { additionalProperties: false },
  ),
  { minItems: 1 },
);

/** A deadlines file, refused with every problem listed; its last rule must match any alarm. */
export function parseDeadlines(raw: unknown): DeadlineRule[] {
  const problems = [...Value.Errors(DeadlineRulesSchema, raw)].map((e) => `${e.path || '/'}: ${e.message}`);
  const rules = raw as DeadlineRule[];
  if (problems.length === 0 && (rules.at(-1)?.category !== undefined || rules.at(-1)?.severity !== undefined))
    problems.push('/: the last rule must have neither category nor severity, so every alarm has a deadline');
  if (problems.length > 0) throw new Error(`invalid deadline rules:\n  ${problems.join('\n  ')}`);
  return rules;
}
