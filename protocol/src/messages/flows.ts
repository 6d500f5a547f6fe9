import { type Static, Type } from '@sinclair/typebox';
import { StringEnum, UnitId } from '../schema-kit.ts';
import { SEVERITIES } from './alarm.ts';

/**
 * The fleet ↔ flows contract (Node-RED and whatever it feeds: the 12345 platform, Open311).
 *
 * Transport: HTTP on the fleet's API, not MQTT. Events leave from a transactional outbox in the
 * fleet's database, so the consumer asks for them (`POST /api/flows/events/lease`), settles each
 * one (`POST /api/flows/events/settle`), and an unsettled event comes back once its lease runs
 * out: at least once, in order per ticket, whatever happened to Node-RED meanwhile. A broker would
 * add a second durable queue to keep in step with the outbox and a service namespace in the
 * gateway's ACL; HTTP needs neither, and its token roles already say who may do what.
 */

/** The work-order loop's states (see fleet/src/domain/ticket-flow.ts for the moves between them). */
export const TICKET_STATES = ['discovered', 'reported', 'dispatched', 'signed-for', 'handling', 'feedback', 'closed', 'returned'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

const Ms = (description: string) => Type.Integer({ minimum: 0, maximum: 8.64e15, description });
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, ...(description ? { description } : {}) });
const Nullable = <T extends ReturnType<typeof Text>>(t: T) => Type.Union([t, Type.Null()]);

/** The ticket as the outside sees it at the moment of the event. */
export const TicketSnapshot = Type.Object(
  {
    id: Text(64, 'Ticket id in the fleet'),
    idempotencyKey: Text(128, 'The alarm episode: one outside work order per key, ever'),
    state: StringEnum(TICKET_STATES),
    unitId: UnitId,
    alarmKind: Text(64),
    category: Text(64, 'Department category the grid routes by (public-security, fire-safety, …)'),
    severity: StringEnum(SEVERITIES),
    priority: Text(32),
    grid: Type.Object(
      {
        cell: Nullable(Text(64)),
        community: Nullable(Text(200)),
        street: Nullable(Text(200)),
        district: Nullable(Text(200)),
        team: Nullable(Text(200)),
      },
      { additionalProperties: false },
    ),
    department: Nullable(Text(200)),
    dispatcher: Text(200),
    position: Type.Union([
      Type.Object(
        { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    openedAt: Ms('When the fleet opened the ticket'),
    deadlineAt: Ms('Close-by deadline (working time where the rule says so)'),
    light: StringEnum(['green', 'yellow', 'red'] as const),
    escalated: Type.Boolean(),
    alarmCount: Type.Integer({ minimum: 1, description: 'Reports of the alarm merged into this ticket' }),
    evidence: Type.Object(
      {
        snapshots: Type.Array(Text(200), { maxItems: 50, description: 'Snapshot ids from the video pipeline' }),
        clips: Type.Array(Text(200), { maxItems: 50, description: 'Clip ids from the video pipeline' }),
      },
      { additionalProperties: false },
    ),
    updatedAt: Ms('Last change on the ticket'),
  },
  { additionalProperties: false },
);
export type TicketSnapshot = Static<typeof TicketSnapshot>;

export const TICKET_EVENT_TYPES = ['ticket.created', 'ticket.changed'] as const;

/** One outbox row as the consumer receives it. */
export const TicketEvent = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'Outbox position: increases per ticket in the order of its changes' }),
    type: StringEnum(TICKET_EVENT_TYPES),
    at: Ms('When the change happened in the fleet'),
    action: Text(32, 'The move that made it (discover, dispatch, sign, merge, warn, overdue, escalate, …)'),
    reason: Nullable(Text(2000)),
    /** How many times this event was leased before (0 on first delivery). */
    attempts: Type.Integer({ minimum: 0 }),
    ticket: TicketSnapshot,
  },
  { additionalProperties: false },
);
export type TicketEvent = Static<typeof TicketEvent>;

/** The longest a lease may wait for events: under an HTTP client's or proxy's usual time-outs. */
export const LEASE_WAIT_MAX_MS = 30_000;

export const LeaseRequest = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Most events returned; default 100' })),
    leaseMs: Type.Optional(
      Type.Integer({ minimum: 1000, maximum: 3_600_000, description: 'Until then no other lease gets them; default 60 s' }),
    ),
    waitMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: LEASE_WAIT_MAX_MS,
        description: 'With none ready, hold the call up to this long and answer as soon as events are; default 0 (answer at once)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type LeaseRequest = Static<typeof LeaseRequest>;

/** Events ready to deliver: the oldest unsettled of each ticket only, so a ticket's changes go out in order. */
export const LeasedEvents = Type.Object(
  { events: Type.Array(TicketEvent), leaseUntil: Ms('Settle before this or the events are leased again') },
  { additionalProperties: false },
);
export type LeasedEvents = Static<typeof LeasedEvents>;

export const SETTLE_OUTCOMES = ['delivered', 'dead-letter'] as const;

export const Settlement = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    outcome: StringEnum(SETTLE_OUTCOMES, { description: 'dead-letter: refused for good; kept with the reason for an operator' }),
    reason: Type.Optional(Text(2000, 'Why it was refused (the outside answer)')),
    target: Type.Optional(Text(64, 'Which outside system refused it (12345, open311)')),
  },
  { additionalProperties: false },
);
export type Settlement = Static<typeof Settlement>;

export const SettleRequest = Type.Object(
  { settlements: Type.Array(Settlement, { minItems: 1, maxItems: 500 }) },
  { additionalProperties: false },
);
export type SettleRequest = Static<typeof SettleRequest>;

/** An outside system's status, applied as one move of the loop. */
export const STATUS_ACTIONS = ['sign', 'handle', 'feedback', 'close'] as const;
export type StatusAction = (typeof STATUS_ACTIONS)[number];

export const StatusChange = Type.Object(
  {
    ticketId: Text(64),
    action: StringEnum(STATUS_ACTIONS, { description: 'sign for, start handling, give feedback, close' }),
    source: Text(64, 'The outside system (12345, open311)'),
    actor: Type.Optional(Text(200, 'Who acted there, as it names them')),
    externalId: Type.Optional(Text(200, 'The outside work order / service request id')),
    feedback: Type.Optional(Text(2000, 'What was done: required for feedback')),
    satisfaction: Type.Optional(
      StringEnum(['satisfied', 'unsatisfied'] as const, { description: 'On close: unsatisfied reopens the ticket as rework' }),
    ),
  },
  { additionalProperties: false },
);
export type StatusChange = Static<typeof StatusChange>;

export const StatusResult = Type.Object(
  {
    ticketId: Text(64),
    /** False when the ticket was already there (a status sent twice): nothing changed. */
    applied: Type.Boolean(),
    state: StringEnum(TICKET_STATES),
  },
  { additionalProperties: false },
);
export type StatusResult = Static<typeof StatusResult>;

/** A ticket event an outside system refused for good, as the dead-letter list shows it. */
export const DeadLetter = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    ticketId: Text(64),
    type: StringEnum(TICKET_EVENT_TYPES),
    action: Text(32),
    at: Ms('When the change happened in the fleet'),
    attempts: Type.Integer({ minimum: 0, description: 'Leases it had' }),
    settledAt: Type.Union([Ms('When it was dead-lettered'), Type.Null()]),
    reason: Nullable(Text(2000)),
    target: Nullable(Text(64)),
  },
  { additionalProperties: false },
);
export type DeadLetter = Static<typeof DeadLetter>;

export const DeadLetters = Type.Object({ deadLetters: Type.Array(DeadLetter) }, { additionalProperties: false });
export type DeadLetters = Static<typeof DeadLetters>;

/** The HTTP routes of the contract, so neither side spells a path by hand. */
export const FLOWS_ROUTES = {
  lease: '/api/flows/events/lease',
  settle: '/api/flows/events/settle',
  status: '/api/flows/status',
  deadLetters: '/api/flows/dead-letters',
  retry: '/api/flows/dead-letters/:seq/retry',
} as const;

export function retryPath(seq: number): string {
  return FLOWS_ROUTES.retry.replace(':seq', String(seq));
}

/**
 * The work order the shipped flows send to a 12345 platform's webhook (JSON), one per ticket
 * event. The platform keeps one work order per `idempotencyKey` (the alarm episode) and applies
 * each `revision` once: a created event sent again, or a change sent again, is a duplicate it
 * answers 409 to, and the flows count that as delivered.
 */
export const WorkOrder = Type.Object(
  {
    idempotencyKey: Text(128, 'The alarm episode: the platform opens one work order per key, ever'),
    event: StringEnum(['created', 'changed'] as const),
    revision: Type.Integer({ minimum: 1, description: 'The event (outbox seq): a change is applied once per revision' }),
    code: Text(64, "The fleet's ticket id: the code the platform quotes in its status callbacks"),
    title: Text(200),
    content: Text(2000),
    category: Text(64),
    severity: StringEnum(SEVERITIES),
    state: StringEnum(TICKET_STATES),
    address: Text(800, 'Grid cell, community, street and district, most specific first'),
    position: Type.Union([
      Type.Object(
        { lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    gridCell: Nullable(Text(64)),
    deadline: Type.String({
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{3})?Z$',
      description: 'Close-by deadline, ISO 8601 UTC',
    }),
    attachments: Type.Array(Text(500), { maxItems: 100, description: 'URLs of the snapshots and clips' }),
  },
  { additionalProperties: false },
);
export type WorkOrder = Static<typeof WorkOrder>;

/** What the 12345 platform reports back about a work order (its status callback). */
export const WORK_ORDER_STATUSES = ['signed', 'handling', 'handled', 'closed'] as const;

export const WorkOrderCallback = Type.Object(
  {
    code: Text(64, 'The work order code: the ticket id the fleet sent'),
    status: StringEnum(WORK_ORDER_STATUSES, {
      description: 'signed: a department signed for it; handling; handled: with feedback; closed: with satisfaction',
    }),
    externalId: Type.Optional(Text(200, "The platform's own work order number")),
    handler: Type.Optional(Text(200, 'Who acted, as the platform names them')),
    feedback: Type.Optional(Text(2000, 'What was done: required when handled')),
    satisfaction: Type.Optional(StringEnum(['satisfied', 'unsatisfied'] as const)),
  },
  { additionalProperties: false },
);
export type WorkOrderCallback = Static<typeof WorkOrderCallback>;
