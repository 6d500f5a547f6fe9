/**
 * KPIs from the ticket event log against a scenario computed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeKpis, type KpiEvent, type KpiTicket } from '../src/domain/kpi.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');

const ticket = (id: string, district: string, openedAt: number, deadlineH: number, alarmCount = 1): KpiTicket => ({
  id,
  cell: `${district}-g1`,
  community: `${district}-c1`,
  street: `${district}-s1`,
  district,
  department: district === 'daoli' ? 'police' : 'crew',
  openedAt,
  deadlineAt: openedAt + deadlineH * H,
  alarmCount,
});
const ev = (ticketId: string, hours: number, action: string, base = T0): KpiEvent => ({ ticketId, at: base + hours * H, action });

/*
 * daoli, 4 tickets opened in the period:
 *   A: dispatched, signed at 1 h, feedback, closed at 3 h (deadline 8 h)        on time, 3 alarms
 *   B: dispatched, signed at 2 h, feedback, reopened (rework), feedback, closed at 10 h (deadline 8 h): late
 *   C: dispatched, never signed; open past its 4 h deadline at the period's end: overdue
 *   D: dispatched, signed at 3 h, handling, deadline 100 h — not due yet
 * → sign-for 3/4; due = A, B, C → on time 1/3; overdue 2; rework 1/2 (A, B reached feedback);
 *   satisfaction: reviews A close, B reopen, B close → 2/3; alarms 3+1+1+2 = 7 → 7/4 per ticket,
 *   merged repeats 3; median sign 2 h (1, 2, 3); median close 6.5 h (3, 10).
 * nangang, 1 ticket: returned, re-dispatched, signed at 5 h, still open past its 8 h deadline: overdue.
 * E opened before the period and X after it: not counted.
 */
const tickets = [
  ticket('A', 'daoli', T0, 8, 3),
  ticket('B', 'daoli', T0, 8),
  ticket('C', 'daoli', T0, 4),
  ticket('D', 'daoli', T0, 100, 2),
  ticket('N', 'nangang', T0, 8),
  ticket('E', 'daoli', T0 - 48 * H, 8),
  ticket('X', 'daoli', T0 + 30 * H, 8),
];
const events = [
  ...['A', 'B', 'C', 'D', 'N', 'E'].map((id) => ev(id, 0, 'dispatch')),
  ev('A', 1, 'sign'),
  ev('A', 2, 'feedback'),
  ev('A', 3, 'close'),
  ev('B', 2, 'sign'),
  ev('B', 4, 'feedback'),
  ev('B', 5, 'reopen'),
  ev('B', 8, 'feedback'),
  ev('B', 10, 'close'),
  ev('D', 3, 'sign'),
  ev('D', 4, 'handle'),
  ev('N', 1, 'return'),
  ev('N', 2, 'dispatch'),
  ev('N', 5, 'sign'),
  ev('E', 1, 'sign'),
];

test('KPIs match a hand-computed scenario, by district', () => {
  const period = { from: T0, to: T0 + 24 * H };
  const [daoli, nangang] = computeKpis(tickets, events, period, 'district');
  assert.deepEqual(daoli, {
    key: 'daoli',
    tickets: 4,
    signForRate: 3 / 4,
    onTimeCloseRate: 1 / 3,
    overdue: 2,
    reworkRate: 1 / 2,
    satisfaction: 2 / 3,
    mergedRepeats: 3,
    alarmsPerTicket: 7 / 4,
    medianSignMs: 2 * H,
    medianCloseMs: 6.5 * H,
  });
  assert.deepEqual(
    [nangang?.key, nangang?.signForRate, nangang?.onTimeCloseRate, nangang?.overdue, nangang?.medianSignMs],
    ['nangang', 1, 0, 1, 5 * H],
  );
  const [all] = computeKpis(tickets, events, period, 'all');
  assert.equal(all?.tickets, 5);
  assert.deepEqual(
    computeKpis(tickets, events, period, 'department').map((k) => [k.key, k.tickets]),
    [
      ['crew', 1],
      ['police', 4],
    ],
  );
  // The period's end cuts the log: at 6 h, B was reopened and not closed yet, C not yet overdue.
  const [early] = computeKpis(tickets, events, { from: T0, to: T0 + 6 * H }, 'district');
  assert.deepEqual([early?.onTimeCloseRate, early?.overdue, early?.satisfaction], [1 / 2, 1, 1 / 2]);
});
