/**
 * Deadlines in working time on China's calendar, fired by the timers on an injected clock: an
 * unhandled ticket turns yellow, then red, then escalates, each exactly once, across a restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDuration, calendarFromLists, parseWorkingHours } from '../src/domain/working-time.ts';
import { loadChinaCalendar } from '../src/tickets/calendar.ts';
import { intrusion } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';

const HOURS = ['08:30-12:00', '13:00-17:30'];
/** Local (UTC+8) wall time as ms. */
const cst = (iso: string) => Date.parse(`${iso}+08:00`);

test('working hours skip the weekend, public holidays, and count the make-up working days', () => {
  const cal = loadChinaCalendar({ extraFile: '', workingHours: HOURS, offsetMin: 480 });
  // Thu 24 Sep 2026 15:00, 8 working hours: 2.5 h that day, Fri 25 is Mid-Autumn, then the weekend.
  assert.equal(addDuration(cal, cst('2026-09-24T15:00'), { workingHours: 8 }), cst('2026-09-28T15:00'));
  // Sat 14 Feb 2026 is a make-up working day before the Spring Festival (15–23 Feb off).
  assert.equal(addDuration(cal, cst('2026-02-13T17:00'), { workingHours: 2 }), cst('2026-02-14T10:00'));
  assert.equal(addDuration(cal, cst('2026-02-14T17:00'), { workingHours: 1 }), cst('2026-02-24T09:00'));
  assert.equal(addDuration(cal, cst('2026-02-14T17:00'), { workingDays: 1 }), cst('2026-02-24T17:00'));
  // Round-the-clock deadlines ignore the calendar.
  assert.equal(addDuration(cal, cst('2026-10-01T10:00'), { hours: 2 }), cst('2026-10-01T12:00'));
  // An operator's file adds a year the package does not know yet.
  const plain = calendarFromLists({ holidays: ['2027-01-01'], workdays: [], offsetMin: 480, hours: parseWorkingHours(HOURS) });
  assert.equal(addDuration(plain, cst('2026-12-31T17:00'), { workingHours: 1 }), cst('2027-01-04T09:00'));
  assert.throws(() => parseWorkingHours(['17:00-09:00']), /start before it ends/);
});

test('an unhandled ticket turns yellow, then red, then escalates on its working-time deadline, each once, across a restart', async (t) => {
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const clock = {
    at: cst('2026-09-24T15:00'),
    now() {
      return this.at;
    },
  };
  const opts = { dataDir, instanceId: 'deadlines', clock };
  let fleet = await startTestFleet(t, broker.url, opts);
  const unit = await unitClient(t, broker.url, 'hrb-601');
  await send(unit, 'hrb-601', 'alarm', { ...intrusion(1, 'motion-1'), ts: clock.at });
  const api = () => apiClient(fleet.base);
  await waitFor(async () => ((await api()('GET', '/api/tickets', null)).body.tickets as unknown[]).length === 1);
  const ticket = async () =>
    (
      (await api()('GET', '/api/tickets', null)).body.tickets as {
        id: string;
        light: string;
        escalated: boolean;
        deadlineAt: number;
        yellowAt: number;
        escalateAt: number;
      }[]
    )[0];
  const first = await ticket();
  assert.deepEqual(
    [first?.yellowAt, first?.deadlineAt, first?.escalateAt],
    [cst('2026-09-28T12:00'), cst('2026-09-28T15:00'), cst('2026-09-28T16:00')],
    '8 working hours (public security, major) from Thursday 15:00 across the holiday and the weekend',
  );
  const step = async (iso: string) => {
    clock.at = cst(iso);
    return fleet.loop.tickets.runDue();
  };
  assert.equal(await step('2026-09-28T11:59'), 0);
  assert.equal((await ticket())?.light, 'green');
  assert.equal(await step('2026-09-28T12:00'), 1);
  assert.equal((await ticket())?.light, 'yellow');
  await fleet.close();
  fleet = await startTestFleet(t, broker.url, opts);
  assert.equal(await step('2026-09-28T12:30'), 0, 'fired before the restart: not again');
  assert.equal(await step('2026-09-28T15:00'), 1);
  assert.equal((await ticket())?.light, 'red');
  assert.equal(await step('2026-09-28T16:00'), 1);
  assert.equal((await ticket())?.escalated, true);
  assert.equal(await step('2026-09-29T09:00'), 0);
  const { timeline } = (await api()('GET', `/api/tickets/${first?.id}`, null)).body as { timeline: { action: string; at: number }[] };
  const fired = timeline.filter((e) => ['warn', 'overdue', 'escalate'].includes(e.action));
  assert.deepEqual(
    fired.map((e) => [e.action, e.at]),
    [
      ['warn', cst('2026-09-28T12:00')],
      ['overdue', cst('2026-09-28T15:00')],
      ['escalate', cst('2026-09-28T16:00')],
    ],
  );
});
