import { SEVERITIES, StringEnum, TICKET_STATES } from '@shouwang/protocol';
import { type TSchema, Type } from '@sinclair/typebox';
import { ANY_ALARM_KINDS, CATEGORIES, PRIORITIES } from '../domain/alarm-rules.ts';

/**
 * The alarm, ticket and audit answers as the API documents them (OpenAPI response schemas). They
 * describe, they never reshape: the server serializes with JSON.stringify (openapi.ts), and
 * `test/alarm-api-schemas.test.ts` checks real answers against these, so a field added to an
 * answer and not here fails a test instead of vanishing from the document.
 */

export const Null = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Ms = Type.Integer({ minimum: 0, description: 'ms since epoch' });
/** Names of the grid areas an answer mentions, by id (only where the grid gives one beside the id). */
const Names = Type.Record(Type.String(), Type.String(), { description: 'grid area id → its name in the grid file' });
export const Obj = <T extends Parameters<typeof Type.Object>[0]>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) });

export const ApiErrorBody = Obj(
  {
    error: Obj({ code: Type.String(), message: Type.String(), path: Type.Optional(Type.String()) }),
  },
  'Every refusal: a code a client can switch on, a message, the failing field path for a 400',
);

const alarmFields = {
  episode: Type.String({ description: "The episode id (its first occurrence's fingerprint): its ticket's idempotency key" }),
  unitId: Type.String(),
  kind: StringEnum(ANY_ALARM_KINDS),
  source: StringEnum(['unit', 'digest', 'fleet'] as const),
  severity: StringEnum(SEVERITIES),
  priority: StringEnum(PRIORITIES),
  category: StringEnum(CATEGORIES),
  state: StringEnum(['active', 'acknowledged', 'cleared'] as const),
  raisedAt: { ...Ms, description: 'Event time of the first raise' },
  receivedAt: { ...Ms, description: 'When the first raise arrived' },
  clearedAt: Null(Ms),
  updatedAt: Ms,
  late: Type.Boolean({ description: 'Arrived long after it happened (back-filled)' }),
  repeats: Type.Integer({ minimum: 0 }),
  chatter: Type.Integer({ minimum: 0, description: 'Occurrences folded into this episode after the first' }),
  inhibitedBy: Null(Type.String()),
  ackedBy: Null(Type.String()),
  ackedAt: Null(Ms),
  shelvedUntil: Null(Ms),
  shelvedBy: Null(Type.String()),
  shelveReason: Null(Type.String()),
  lat: Null(Type.Number()),
  lon: Null(Type.Number()),
  value: Null(Type.Number()),
  message: Null(Type.String()),
  ticketId: Null(Type.String()),
};

export const AlarmRecord = Obj(alarmFields, 'An alarm episode');
export const AlarmView = Obj(
  { ...alarmFields, district: Null(Type.String()), stale: Type.Boolean(), shelved: Type.Boolean() },
  'An alarm episode as the console lists it',
);
const AlarmComment = Obj({ id: Type.String(), episode: Type.String(), at: Ms, author: Type.String(), text: Type.String() });

const Now = { ...Ms, description: "The fleet's clock when it answered: a page paints ages and deadline lights on it" };
export const AlarmList = Obj({ now: Now, alarms: Type.Array(AlarmView), names: Names });
/** fleet/src/storage/alarm-occurrences.ts */
const AlarmOccurrences = Type.Array(
  Obj({
    alarmId: Type.String({ description: "The unit's alarm id: its evidence is `GET /api/units/:id/alarms/:alarmId/evidence`" }),
    episode: Type.String(),
    raisedAt: Null({ ...Ms, description: "The episode's first raise; null for occurrences folded in after it" }),
  }),
  { description: "The units' alarms behind it, newest episode first (fleet rules' alarms have no unit alarm id)" },
);
export const AlarmWithComments = Obj({ alarm: AlarmRecord, comments: Type.Array(AlarmComment), occurrences: AlarmOccurrences });
export const AlarmComments = Obj({ comments: Type.Array(AlarmComment) });
export const FloodAnswer = Obj({
  from: Ms,
  to: Ms,
  names: Names,
  districts: Type.Array(
    Obj({
      district: Type.String(),
      inFlood: Type.Boolean(),
      floodShare: Type.Number({ minimum: 0, maximum: 1 }),
      periods: Type.Array(Obj({ start: Ms, end: Ms })),
      alarms: Type.Integer({ minimum: 0 }),
      priorityMix: Obj(Object.fromEntries(PRIORITIES.map((p) => [p, Type.Integer({ minimum: 0 })]))),
    }),
  ),
});

export const TicketView = Obj(
  {
    id: Type.String(),
    idempotencyKey: Type.String(),
    state: StringEnum(TICKET_STATES),
    unitId: Type.String(),
    alarmKind: StringEnum(ANY_ALARM_KINDS),
    category: StringEnum(CATEGORIES),
    severity: StringEnum(SEVERITIES),
    priority: StringEnum(PRIORITIES),
    grid: Obj({
      cell: Null(Type.String()),
      community: Null(Type.String()),
      street: Null(Type.String()),
      district: Null(Type.String()),
      team: Null(Type.String()),
    }),
    department: Null(Type.String()),
    dispatcher: Type.String(),
    openedAt: Ms,
    deadlineAt: Ms,
    yellowAt: Ms,
    escalateAt: Ms,
    light: StringEnum(['green', 'yellow', 'red'] as const),
    escalated: Type.Boolean(),
    rework: Type.Integer({ minimum: 0 }),
    alarmCount: Type.Integer({ minimum: 1 }),
    evidence: Type.Object({}, { description: 'Position, the readings around the alarm, snapshot and clip references' }),
    updatedAt: Ms,
  },
  'A work order',
);
export const TicketList = Obj({ now: Now, tickets: Type.Array(TicketView), names: Names });
export const TicketWithTimeline = Obj({
  now: Now,
  ticket: TicketView,
  alarms: AlarmOccurrences,
  names: Names,
  timeline: Type.Array(
    Obj({
      at: Ms,
      action: Type.String(),
      from: Null(StringEnum(TICKET_STATES)),
      to: Null(StringEnum(TICKET_STATES)),
      actor: Type.String({ description: 'role:token id, system, or <source>:<actor> from outside' }),
      reason: Null(Type.String()),
      detail: Type.Unknown(),
    }),
  ),
});

const Rate = Null(Type.Number({ minimum: 0, maximum: 1 }));
export const KpiAnswer = Obj({
  from: Ms,
  to: Ms,
  level: Type.String(),
  names: Names,
  kpis: Type.Array(
    Obj({
      key: Type.String(),
      tickets: Type.Integer({ minimum: 0 }),
      signForRate: Rate,
      onTimeCloseRate: Rate,
      overdue: Type.Integer({ minimum: 0 }),
      reworkRate: Rate,
      satisfaction: Rate,
      mergedRepeats: Type.Integer({ minimum: 0 }),
      alarmsPerTicket: Null(Type.Number({ minimum: 0 })),
      medianSignMs: Null(Type.Number({ minimum: 0 })),
      medianCloseMs: Null(Type.Number({ minimum: 0 })),
    }),
  ),
});

export const AuditAnswer = Obj({
  id: Type.String(),
  entries: Type.Array(
    Obj({
      at: Ms,
      actor: Type.String(),
      actorId: Type.String(),
      role: Type.String(),
      action: Type.String(),
      unitId: Null(Type.String()),
      ticketId: Null(Type.String()),
      campaignId: Null(Type.String()),
      release: Null(Type.String({ description: 'The release version a publish or a campaign write concerned' })),
      status: Type.Integer(),
      result: Type.String({ description: 'ok, or the error code the write was answered with' }),
      message: Null(Type.String()),
    }),
  ),
});

export const Settled = Obj({ settled: Type.Integer({ minimum: 0 }) });
export const Retried = Obj({ seq: Type.Integer({ minimum: 1 }), state: Type.Literal('pending') });

/** A route's answers: its own on success, the API's error shape on every refusal. */
export function answers(ok: TSchema, status: 200 | 201 = 200) {
  return { [status]: ok, '4xx': ApiErrorBody, '5xx': ApiErrorBody };
}
