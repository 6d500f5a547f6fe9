/**
 * Migration 0015 (one timer row per ticket) on a database of the old shape, three rows per ticket:
 * each ticket keeps its next stage to fire (or its last fired), and the stages still to come fire
 * once each, in order, with none fired before the migration firing again. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { DEFAULT_DEADLINES } from '../src/domain/ticket-flow.ts';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { openDatabase } from '../src/storage/open.ts';
import type { TicketRow } from '../src/storage/schema.ts';
import { TicketStore } from '../src/storage/ticket-store.ts';
import { loadChinaCalendar } from '../src/tickets/calendar.ts';
import { TicketService } from '../src/tickets/ticket-service.ts';
import { databaseAt } from './migration-helper.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('ticket_timers_migration');
const BEFORE = '0014-media-retention';
const H = 3_600_000;

const ticket = (id: string): TicketRow => ({
  id,
  idempotency_key: `ep-${id}`,
  state: 'dispatched',
  unit_id: `u-${id}`,
  alarm_kind: 'motion',
  category: 'public-security',
  severity: 'major',
  priority: 'high',
  cell: null,
  community: null,
  street: null,
  district: null,
  team: null,
  department: 'police',
  dispatcher: 'city',
  opened_at: 0,
  deadline_at: 2 * H,
  yellow_at: H,
  escalate_at: 3 * H,
  light: 'green',
  escalated: 0,
  rework: 0,
  alarm_count: 1,
  evidence: '{}',
  updated_at: 0,
});

/** The stages fired before the migration, by ticket (the rest pending); "tie" is a red fired before its yellow (the same due time). */
const FIRED: Record<string, string[]> = { none: [], yellow: ['yellow'], all: ['yellow', 'red', 'escalate'], tie: ['red'] };

function oldDatabase(url: string, dir: string): Promise<void> {
  return databaseAt(url, dir, BEFORE, async (db) => {
    for (const [id, fired] of Object.entries(FIRED)) {
      await db.insertInto('tickets').values(ticket(id)).execute();
      for (const [kind, due] of [
        ['yellow', H],
        ['red', 2 * H],
        ['escalate', 3 * H],
      ] as const) {
        const f = fired.includes(kind);
        await db
          .insertInto('ticket_timers')
          .values({ ticket_id: id, kind, due_at: due, fired_at: f ? due : null, fired_by: f ? 'old' : null })
          .execute();
      }
    }
  });
}

for (const store of ['SQLite', 'PostgreSQL'] as const) {
  test(`${store}: open tickets' pending timers become one row each and fire once, in order, after the migration`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'ticket-timers-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const url = store === 'PostgreSQL' ? await postgres() : '';
    await oldDatabase(url, dir);
    const { db } = await openDatabase(url, dir, () => {});
    t.after(() => db.destroy());

    const rows = await db.selectFrom('ticket_timers').selectAll().orderBy('ticket_id').execute();
    assert.deepEqual(
      rows.map((r) => [r.ticket_id, r.kind, r.due_at, r.fired_at === null ? 'pending' : r.fired_by]),
      [
        ['all', 'escalate', 3 * H, 'old'],
        ['none', 'yellow', H, 'pending'],
        ['tie', 'escalate', 3 * H, 'pending'],
        ['yellow', 'red', 2 * H, 'pending'],
      ],
    );

    const clock = { at: 4 * H, now: () => clock.at };
    const service = new TicketService({
      store: new TicketStore(db),
      outbox: new FlowsOutbox(db),
      deadlines: DEFAULT_DEADLINES,
      calendar: loadChinaCalendar({ extraFile: '', workingHours: ['09:00-17:00'], offsetMin: 480 }),
      clock,
      instanceId: 'new',
      log: pino({ level: 'silent' }),
    });
    // yellow: red and escalate; none: all three; tie: escalate; all: nothing.
    assert.equal(await service.runDue(), 6);
    assert.equal(await service.runDue(), 0, 'each stage once');
    const events = await db.selectFrom('ticket_events').select(['ticket_id', 'action', 'at']).orderBy('ticket_id').orderBy('at').execute();
    assert.deepEqual(
      events.map((e) => [e.ticket_id, e.action, e.at]),
      [
        ['none', 'warn', H],
        ['none', 'overdue', 2 * H],
        ['none', 'escalate', 3 * H],
        ['tie', 'escalate', 3 * H],
        ['yellow', 'overdue', 2 * H],
        ['yellow', 'escalate', 3 * H],
      ],
    );
    const after = await db.selectFrom('ticket_timers').select(['ticket_id', 'kind', 'fired_by']).orderBy('ticket_id').execute();
    assert.deepEqual(
      after.map((r) => [r.ticket_id, r.kind, r.fired_by]),
      [
        ['all', 'escalate', 'old'],
        ['none', 'escalate', 'new'],
        ['tie', 'escalate', 'new'],
        ['yellow', 'escalate', 'new'],
      ],
    );
  });
}
