/**
 * A ticket's opening is logged as one row (action `open`) and one deadline timer row: the
 * timeline and the KPIs still read the moves it stands for — discover, report, and dispatch when
 * the grid routed it — with each move's state change, reason and detail as when they were rows of
 * their own; and the one timer row, re-armed from stage to stage, fires each stage once however
 * many instances poll it at once. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pino } from 'pino';
import type { AlarmRecord } from '../src/domain/alarm-engine.ts';
import { DEFAULT_DEADLINES } from '../src/domain/ticket-flow.ts';
import type { Route } from '../src/grid/grid.ts';
import { AlarmStore } from '../src/storage/alarm-store.ts';
import { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { LoopBatch } from '../src/storage/loop-batch.ts';
import { openDatabase } from '../src/storage/open.ts';
import { TicketStore } from '../src/storage/ticket-store.ts';
import { loadChinaCalendar } from '../src/tickets/calendar.ts';
import { type Evidence, TicketService } from '../src/tickets/ticket-service.ts';
import { alarmRecord } from './alarm-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('ticket_opening');
const NOW = Date.parse('2026-09-24T15:00+08:00');

const alarm = (unitId: string): AlarmRecord => alarmRecord(unitId, NOW);

const route = (department: string | null): Route => ({
  matched: true,
  cell: 'c-1',
  community: 'm-1',
  street: 's-1',
  district: 'd-1',
  team: 'team-1',
  department,
  dispatcher: 'centre-1',
});

const evidence: Evidence = {
  position: null,
  readings: {},
  alarm: { ts: NOW, receivedAt: NOW, severity: 'major', value: null, message: null, late: false },
  snapshots: [],
  clips: [],
};

async function setup(t: TestContext, store: 'SQLite' | 'PostgreSQL') {
  const dir = await mkdtemp(join(tmpdir(), 'ticket-opening-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { db, dialect } = await openDatabase(store === 'PostgreSQL' ? await postgres() : '', dir, () => {});
  t.after(() => db.destroy());
  const stores = { alarms: new AlarmStore(db, dialect), tickets: new TicketStore(db), outbox: new FlowsOutbox(db) };
  const clock = { at: NOW, now: () => clock.at };
  const service = (instanceId: string) =>
    new TicketService({
      store: stores.tickets,
      outbox: stores.outbox,
      deadlines: DEFAULT_DEADLINES,
      calendar: loadChinaCalendar({ extraFile: '', workingHours: ['09:00-17:00'], offsetMin: 480 }),
      clock,
      instanceId,
      log: pino({ level: 'silent' }),
    });
  const opener = service('opening');
  const open = (unitId: string, department: string | null) =>
    db.transaction().execute(async (tx) => {
      const a = alarm(unitId);
      const b = await LoopBatch.open(tx, stores, [unitId], [a.episode]);
      const id = await opener.openOrMerge(b, a, route(department), evidence);
      await b.flush();
      return id;
    });
  return { db, stores, clock, service, open };
}

for (const store of ['SQLite', 'PostgreSQL'] as const) {
  test(`${store}: an opening is one event row and one timer row, read as its moves by the timeline and the KPIs`, async (t) => {
    const { db, stores, open } = await setup(t, store);
    const routed = await open('u-routed', 'police');
    const unrouted = await open('u-unrouted', null);

    const rows = await db.selectFrom('ticket_events').select(['ticket_id', 'action']).execute();
    assert.equal(rows.length, 2, 'one event row per opening');
    assert.equal((await db.selectFrom('ticket_timers').select('ticket_id').execute()).length, 2, 'one timer row per ticket');

    const moves = async (id: string) =>
      (await stores.tickets.timeline(id)).map((e) => [e.action, e.from_state, e.to_state, e.actor, e.reason, e.detail, e.at]);
    assert.deepEqual(await moves(routed), [
      ['discover', null, 'discovered', 'system', null, JSON.stringify({ episode: 'u-routed~motion~a-1', kind: 'motion' }), NOW],
      ['report', 'discovered', 'reported', 'system', null, null, NOW],
      [
        'dispatch',
        'reported',
        'dispatched',
        'system',
        'routed by grid cell',
        JSON.stringify({ department: 'police', team: 'team-1' }),
        NOW,
      ],
    ]);
    assert.deepEqual(await moves(unrouted), [
      ['discover', null, 'discovered', 'system', null, JSON.stringify({ episode: 'u-unrouted~motion~a-1', kind: 'motion' }), NOW],
      ['report', 'discovered', 'reported', 'system', null, null, NOW],
    ]);
    const ids = (await stores.tickets.timeline(routed)).map((e) => e.id);
    assert.equal(new Set(ids).size, 3, 'each move has its own id');

    const { events } = await stores.tickets.forKpis(NOW - 1, NOW + 1);
    const kpiMoves = (id: string) => events.filter((e) => e.ticket_id === id).map((e) => [e.action, e.at]);
    assert.deepEqual(kpiMoves(routed), [
      ['discover', NOW],
      ['report', NOW],
      ['dispatch', NOW],
    ]);
    assert.deepEqual(kpiMoves(unrouted), [
      ['discover', NOW],
      ['report', NOW],
    ]);
  });

  test(`${store}: a second ticket for an episode is refused by the database, and the batch with it`, async (t) => {
    const { db, stores, open } = await setup(t, store);
    const id = await open('u-1', 'police');
    const row = await stores.tickets.get(db, id);
    assert.ok(row);
    await assert.rejects(db.transaction().execute((tx) => stores.tickets.insertMany(tx, [{ ...row, id: 'other' }])));
    assert.deepEqual(
      (await db.selectFrom('tickets').select('id').execute()).map((r) => r.id),
      [id],
    );
  });

  test(`${store}: a batch starts knowing its units' open tickets and, by key, its episodes' tickets closed`, async (t) => {
    const { db, stores, open } = await setup(t, store);
    const closed = await open('u-1', 'police');
    await db.updateTable('tickets').set({ state: 'closed' }).where('id', '=', closed).execute();
    const opened = await open('u-2', 'police');
    // One episode of each unit: u-1's ticket is closed, u-2's open (its key is not asked for).
    const episode = alarm('u-1').episode;
    await db.transaction().execute(async (tx) => {
      const b = await LoopBatch.open(tx, stores, ['u-1', 'u-2'], [episode]);
      assert.equal(b.openTicket('u-1', 'motion'), undefined, "u-1's ticket is closed");
      assert.equal(b.openTicket('u-2', 'motion')?.id, opened);
      assert.equal((await b.ticketByKey(episode))?.id, closed, 'the closed ticket, found by its key');
    });
  });

  test(`${store}: four pollers on two instances between yellow and red warn each ticket once; the row waits for red`, async (t) => {
    const { db, clock, service, open } = await setup(t, store);
    for (let i = 0; i < 40; i++) await open(`u-${i}`, 'police');
    // Past the yellow (Monday 12:00, 8 working hours from Thursday 15:00), before the red (15:00).
    clock.at = Date.parse('2026-09-28T13:00+08:00');
    const [a, b] = [service('a'), service('b')];
    const fired = await Promise.all([a.runDue(), b.runDue(), a.runDue(), b.runDue()]);
    assert.equal(
      fired.reduce((x, y) => x + y, 0),
      40,
    );
    const warns = await db.selectFrom('ticket_events').select('ticket_id').where('action', '=', 'warn').execute();
    assert.equal(warns.length, 40, 'one warning per ticket');
    assert.equal(new Set(warns.map((w) => w.ticket_id)).size, 40);
    const timers = await db.selectFrom('ticket_timers').select(['kind', 'fired_at']).execute();
    assert.deepEqual(new Set(timers.map((r) => `${r.kind}:${r.fired_at === null ? 'pending' : 'fired'}`)), new Set(['red:pending']));
  });
}
