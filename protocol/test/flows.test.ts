/**
 * The fleet ↔ flows contract: golden examples of each shape pass, and each kind of bad input is
 * refused with a code and the failing field (what the fleet's routes and the palette both rely on).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkValue,
  ErrorCode,
  FLOWS_ROUTES,
  LeasedEvents,
  retryPath,
  SettleRequest,
  StatusChange,
  type TicketEvent,
  TicketEvent as TicketEventSchema,
} from '@shouwang/protocol';

export const TICKET_EVENT: TicketEvent = {
  seq: 17,
  type: 'ticket.created',
  at: 1_763_856_000_000,
  action: 'dispatch',
  reason: null,
  attempts: 0,
  ticket: {
    id: '5b3c1f0e-8d4a-4c55-9d0e-2f1f6f1b7a10',
    idempotencyKey: 'hrb-001~motion~motion-1',
    state: 'dispatched',
    unitId: 'hrb-001',
    alarmKind: 'motion',
    category: 'public-security',
    severity: 'major',
    priority: 'high',
    grid: { cell: 'daoli-0007', community: 'Anjing', street: 'Zhongyang', district: 'daoli', team: 'daoli-team-3' },
    department: 'Daoli 道里 public security sub-bureau',
    dispatcher: 'daoli dispatcher',
    position: { lat: 45.75, lon: 126.55 },
    openedAt: 1_763_856_000_000,
    deadlineAt: 1_763_884_800_000,
    light: 'green',
    escalated: false,
    alarmCount: 1,
    evidence: { snapshots: ['snap-1'], clips: [] },
    updatedAt: 1_763_856_000_000,
  },
};

test('golden examples of every shape pass', () => {
  assert.ok(checkValue(TicketEventSchema, TICKET_EVENT).ok);
  assert.ok(checkValue(LeasedEvents, { events: [TICKET_EVENT], leaseUntil: 1_763_856_060_000 }).ok);
  assert.ok(checkValue(SettleRequest, { settlements: [{ seq: 17, outcome: 'dead-letter', reason: '422', target: '12345' }] }).ok);
  assert.ok(
    checkValue(StatusChange, { ticketId: 't-1', action: 'close', source: 'open311', satisfaction: 'satisfied', feedback: 'fixed' }).ok,
  );
});

test('bad input is refused with a code and the failing field', () => {
  const cases: [string, ReturnType<typeof checkValue>, string][] = [
    ['unknown field', checkValue(StatusChange, { ticketId: 't', action: 'sign', source: 'x', extra: 1 }), '/extra'],
    ['unknown action', checkValue(StatusChange, { ticketId: 't', action: 'sign-off', source: 'x' }), '/action'],
    [
      'state off the loop',
      checkValue(TicketEventSchema, { ...TICKET_EVENT, ticket: { ...TICKET_EVENT.ticket, state: 'done' } }),
      '/ticket/state',
    ],
    [
      'no idempotency key',
      checkValue(TicketEventSchema, { ...TICKET_EVENT, ticket: { ...TICKET_EVENT.ticket, idempotencyKey: undefined } }),
      '/ticket/idempotencyKey',
    ],
    ['empty settlement list', checkValue(SettleRequest, { settlements: [] }), '/settlements'],
    ['unknown outcome', checkValue(SettleRequest, { settlements: [{ seq: 1, outcome: 'lost' }] }), '/settlements/0/outcome'],
  ];
  for (const [name, r, path] of cases) {
    assert.equal(r.ok, false, name);
    if (!r.ok) {
      assert.equal(r.error.code, ErrorCode.Schema, name);
      assert.equal(r.error.path, path, name);
    }
  }
});

test('routes are built by the protocol', () => {
  assert.equal(retryPath(42), '/api/flows/dead-letters/42/retry');
  assert.equal(FLOWS_ROUTES.retry, '/api/flows/dead-letters/:seq/retry');
});
