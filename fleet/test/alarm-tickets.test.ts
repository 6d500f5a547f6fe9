/**
 * Alarms to tickets end to end, on SQLite and on a real PostgreSQL: a provisioned unit's alarm
 * through the real gateway process (credentials, ACLs, validation at the edge, journal) → the
 * fleet's durable intake → engine → ticket in the grid cell with its department and deadline,
 * however often repeated and across a fleet restart; an alarm published while the fleet is stopped.
 * The loop's moves, the console and digests by role over a plain broker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN, DAOLI, gatewaySystem, intrusion, type Ticket, ticketsOf } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

function suite(name: string, storage: () => Promise<string>) {
  describe(`alarms to tickets on ${name}`, () => {
    test('through the real gateway: one intrusion, however often repeated and across a fleet restart, is one ticket in its cell with a deadline', async (t) => {
      const sys = await gatewaySystem(t, 'gw', await storage());
      let fleet = await sys.start();
      const u = await sys.provision(fleet.base, 'hrb-801');
      await send(u, 'hrb-801', 'alarm', intrusion(1, 'motion-1'));
      await waitFor(async () => (await ticketsOf(fleet.base)).length === 1, 10_000);
      await send(u, 'hrb-801', 'alarm', intrusion(1, 'motion-1')); // the same message again
      await send(u, 'hrb-801', 'alarm', intrusion(2, 'motion-1')); // the same occurrence, re-sent
      await waitFor(() => fleet.loop.alarms.counts.taken + fleet.loop.alarms.counts.duplicates === 3, 10_000);
      await fleet.close();
      await send(u, 'hrb-801', 'alarm', intrusion(3, 'motion-1')); // while the fleet is down
      fleet = await sys.start();
      await send(u, 'hrb-801', 'alarm', intrusion(4, 'motion-2')); // a new occurrence while the ticket is open
      // Message 3 (kept by the gateway for this instance's session) and message 4.
      await waitFor(() => fleet.loop.alarms.counts.taken === 2, 10_000);
      const tickets = await ticketsOf(fleet.base);
      assert.equal(tickets.length, 1, 'one ticket');
      const [ticket] = tickets as [Ticket];
      assert.equal(ticket.alarmCount, 4, 'four reports taken once each: the duplicate delivery is not counted');
      assert.equal(ticket.grid.cell, fleet.loop.grid.cellAt(DAOLI.lat, DAOLI.lon));
      assert.equal(ticket.grid.district, 'daoli');
      assert.equal(ticket.department, 'Daoli 道里 public security sub-bureau');
      assert.equal(ticket.state, 'dispatched', 'routed straight to the department of the cell');
      assert.ok(ticket.openedAt < ticket.yellowAt && ticket.yellowAt < ticket.deadlineAt && ticket.deadlineAt < ticket.escalateAt);
    });

    test('through the real gateway: an alarm published while the fleet is stopped opens its ticket when the fleet returns', async (t) => {
      const sys = await gatewaySystem(t, 'back', await storage());
      const first = await sys.start();
      const u = await sys.provision(first.base, 'hrb-802');
      await first.close();
      await send(u, 'hrb-802', 'alarm', { ...intrusion(1, 'fire-1'), kind: 'fire', severity: 'critical' });
      const fleet = await sys.start();
      await waitFor(async () => (await ticketsOf(fleet.base)).length === 1, 10_000);
      const [ticket] = (await ticketsOf(fleet.base)) as [Ticket];
      assert.equal(ticket.department, 'Daoli 道里 fire rescue brigade');
      assert.ok(ticket.deadlineAt > ticket.openedAt);
    });

    test('returned, re-dispatched, unsatisfied feedback reopens as rework; disallowed moves are 409, wrong roles 403', async (t) => {
      const broker = await startBroker(t);
      const fleet = await startTestFleet(t, broker.url, { storageUrl: await storage(), auth: { bootstrapAdminToken: ADMIN } });
      const api = apiClient(fleet.base);
      const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
      const [dispatcher, operator, supervisor, commander] = await Promise.all(
        ['dispatcher', 'department-operator', 'supervisor', 'commander'].map(token),
      );
      const unit = await unitClient(t, broker.url, 'hrb-503');
      await send(unit, 'hrb-503', 'alarm', intrusion(1, 'motion-9'));
      await waitFor(async () => ((await api('GET', '/api/tickets', ADMIN)).body.tickets as unknown[]).length === 1);
      const [{ id }] = (await api('GET', '/api/tickets', ADMIN)).body.tickets as [{ id: string }];
      const move = (action: string, who: string | undefined, body: Record<string, unknown> = {}) =>
        api('POST', `/api/tickets/${id}/${action}`, who ?? null, body);

      assert.equal((await move('sign', commander)).status, 403, 'a commander does not sign for work');
      assert.equal((await move('close', dispatcher)).status, 409, 'a dispatched ticket cannot be closed');
      assert.equal((await move('return', operator)).status, 400, 'a return needs a reason');
      assert.equal((await move('return', operator, { reason: 'not ours: private site' })).body.state, 'returned');
      assert.equal((await move('dispatch', dispatcher, { department: 'Daoli 道里 urban management bureau' })).body.state, 'dispatched');
      assert.equal((await move('sign', operator)).body.state, 'signed-for');
      assert.equal((await move('handle', operator)).body.state, 'handling');
      assert.equal((await move('feedback', operator, { reason: 'gate closed, patrol added' })).body.state, 'feedback');
      const reopened = await move('reopen', dispatcher, { reason: 'citizen unsatisfied: gate open again' });
      assert.deepEqual([reopened.body.state, reopened.body.rework], ['handling', 1]);
      assert.equal((await move('escalate', dispatcher, { reason: 'x' })).status, 403);
      assert.equal((await move('escalate', supervisor, { reason: 'second complaint' })).body.escalated, true);
      await move('feedback', operator, { reason: 'gate welded' });
      assert.equal((await move('close', dispatcher)).body.state, 'closed');
      assert.equal((await move('sign', operator)).status, 409);

      const { timeline } = (await api('GET', `/api/tickets/${id}`, ADMIN)).body as {
        timeline: { action: string; actor: string; reason: string | null }[];
      };
      assert.deepEqual(
        timeline.map((e) => e.action),
        ['discover', 'report', 'dispatch', 'return', 'dispatch', 'sign', 'handle', 'feedback', 'reopen', 'escalate', 'feedback', 'close'],
      );
      assert.match(timeline[3]?.actor ?? '', /^department-operator:/);
      assert.equal(timeline[3]?.reason, 'not ours: private site');
      const kpis = (await api('GET', '/api/kpis?level=district', ADMIN)).body.kpis as {
        key: string;
        reworkRate: number;
        satisfaction: number;
      }[];
      assert.deepEqual(
        kpis.map((k) => [k.key, k.reworkRate, k.satisfaction]),
        [['daoli', 1, 0.5]],
      );
      const doc = (await api('GET', '/api/openapi.json', null)).body.paths as Record<string, Record<string, { 'x-action'?: string }>>;
      assert.equal(doc['/api/tickets/{id}/escalate']?.post?.['x-action'], 'supervise');
      assert.equal(doc['/api/alarms/{episode}/acknowledge']?.post?.['x-action'], 'answer-alarms');
    });

    test('the console: acknowledge once, shelve with a reason, comment; by role; the flood state per district', async (t) => {
      const broker = await startBroker(t);
      const fleet = await startTestFleet(t, broker.url, { storageUrl: await storage(), auth: { bootstrapAdminToken: ADMIN } });
      const api = apiClient(fleet.base);
      const token = async (role: string) => (await api('POST', '/api/tokens', ADMIN, { role, name: role })).body.token as string;
      const [commander, operator] = (await Promise.all(['commander', 'department-operator'].map(token))) as [string, string];
      const unit = await unitClient(t, broker.url, 'hrb-505');
      for (let i = 0; i < 11; i++)
        await send(unit, 'hrb-505', 'alarm', { ...intrusion(i + 1, `o-${i}`), kind: i % 2 ? 'tilt' : 'tamper', state: 'raised' });
      await waitFor(async () => ((await api('GET', '/api/alarms?unit=hrb-505', commander)).body.alarms as unknown[]).length === 2);
      const [first] = (await api('GET', '/api/alarms?unit=hrb-505', commander)).body.alarms as [{ episode: string }];
      const path = `/api/alarms/${encodeURIComponent(first.episode)}`;
      assert.equal((await api('POST', `${path}/acknowledge`, operator, {})).status, 403);
      const acked = await api('POST', `${path}/acknowledge`, commander, {});
      assert.deepEqual([acked.status, acked.body.state], [200, 'acknowledged']);
      assert.match(acked.body.ackedBy as string, /^commander:/);
      assert.equal((await api('POST', `${path}/acknowledge`, commander, {})).status, 409, 'acknowledged already');
      assert.equal((await api('POST', `${path}/shelve`, commander, { minutes: 30 })).status, 400, 'a shelf needs a reason');
      const shelved = await api('POST', `${path}/shelve`, commander, { reason: 'crane works on site today', minutes: 30 });
      assert.equal(shelved.body.shelveReason, 'crane works on site today');
      assert.equal(
        ((await api('GET', '/api/alarms?unit=hrb-505', commander)).body.alarms as { episode: string; shelved: boolean }[]).find(
          (a) => a.episode === first.episode,
        )?.shelved,
        true,
      );
      assert.equal((await api('POST', `${path}/comments`, commander, { text: 'site manager called' })).status, 201);
      assert.equal(((await api('GET', path, commander)).body.comments as unknown[]).length, 1);
      const sneaky = await api('POST', `${path}/shelve`, commander, { reason: 'x', minutes: 5, forever: true });
      assert.deepEqual([sneaky.status, (sneaky.body.error as { code: string }).code], [400, 'BAD_REQUEST'], 'unknown fields are refused');
      // Two episodes only (repeats fold), so no flood from this unit.
      const flood = (await api('GET', '/api/alarms/flood', commander)).body.districts as {
        district: string;
        inFlood: boolean;
        alarms: number;
      }[];
      assert.deepEqual(
        flood.map((d) => [d.district, d.inFlood, d.alarms]),
        [['daoli', false, 2]],
      );
    });

    test("a towed unit: the fleet's left-site opened its ticket first, the unit's own breach joins it; once closed, a breach opens its own", async (t) => {
      const broker = await startBroker(t);
      const fleet = await startTestFleet(t, broker.url, { storageUrl: await storage(), auth: { bootstrapAdminToken: ADMIN } });
      const unit = await unitClient(t, broker.url, 'hrb-505');
      const T = Date.now() - 60_000;
      const leftSite = (unitId: string, ts: number) =>
        fleet.loop.alarms.signal({
          unitId,
          kind: 'left-site',
          occurrence: String(ts),
          state: 'raised',
          severity: 'major',
          source: 'fleet',
          ts,
          receivedAt: Date.now(),
          ...DAOLI,
        });
      const breach = (unitId: string, ts: number) =>
        send(unit, unitId, 'alarm', { seq: 1, ts, id: 'geofence-1', kind: 'geofence', severity: 'critical', state: 'raised', ...DAOLI });
      const episodesOf = async (unitId: string) => {
        const episodes = await fleet.loop.alarms.list({ unitId, limit: 10 });
        return (k: string) => episodes.find((e) => e.kind === k);
      };
      await leftSite('hrb-505', T + 4000);
      await waitFor(async () => (await ticketsOf(fleet.base)).length === 1);
      // The unit's breach, back-filled with an earlier event time: it explains the left-site and joins its ticket.
      await breach('hrb-505', T);
      await waitFor(async () => (await ticketsOf(fleet.base))[0]?.alarmCount === 2);
      assert.equal((await ticketsOf(fleet.base)).length, 1, 'one towed unit, one ticket');
      const towed = await episodesOf('hrb-505');
      assert.equal(towed('left-site')?.inhibitedBy, towed('geofence')?.episode);
      assert.equal(towed('geofence')?.ticketId, towed('left-site')?.ticketId);
      // Another unit's left-site ticket closed while its episode stays active: the breach is not folded into a closed ticket.
      await leftSite('hrb-506', T + 4000);
      await waitFor(async () => (await ticketsOf(fleet.base)).length === 2);
      const closed = (await episodesOf('hrb-506'))('left-site')?.ticketId as string;
      await fleet.loop.ticketStore.db.updateTable('tickets').set({ state: 'closed' }).where('id', '=', closed).execute();
      await breach('hrb-506', T);
      await waitFor(async () => (await ticketsOf(fleet.base)).length === 3);
      const other = await episodesOf('hrb-506');
      assert.notEqual(other('geofence')?.ticketId, closed);
    });

    test('a critical breach joining a major left-site ticket makes it due as a critical one: severity, deadlines and the pending stage', async (t) => {
      const broker = await startBroker(t);
      const cst = (iso: string) => Date.parse(`${iso}+08:00`);
      const clock = {
        at: cst('2026-11-23T10:00'),
        now() {
          return this.at;
        },
      };
      const fleet = await startTestFleet(t, broker.url, { storageUrl: await storage(), clock, auth: { bootstrapAdminToken: ADMIN } });
      const unit = await unitClient(t, broker.url, 'hrb-507');
      type Due = Ticket & { id: string; severity: string; light: string };
      const ticket = async () => (await ticketsOf(fleet.base))[0] as Due | undefined;
      const opened = clock.at;
      await fleet.loop.alarms.signal({
        unitId: 'hrb-507',
        kind: 'left-site',
        occurrence: String(opened),
        state: 'raised',
        severity: 'major',
        source: 'fleet',
        ts: opened,
        receivedAt: opened,
        ...DAOLI,
      });
      const major = await ticket();
      assert.deepEqual([major?.severity, major?.deadlineAt], ['major', cst('2026-11-24T10:00')], '8 working hours: the next morning');
      clock.at = cst('2026-11-23T10:01');
      await send(unit, 'hrb-507', 'alarm', {
        seq: 1,
        ts: opened + 30_000,
        id: 'geofence-1',
        kind: 'geofence',
        severity: 'critical',
        state: 'raised',
        ...DAOLI,
      });
      await waitFor(async () => (await ticket())?.alarmCount === 2);
      const critical = await ticket();
      assert.deepEqual(
        [critical?.severity, critical?.yellowAt, critical?.deadlineAt, critical?.escalateAt],
        ['critical', cst('2026-11-23T12:01'), cst('2026-11-23T14:01'), cst('2026-11-23T15:01')],
        'four hours round the clock from the join, yellow at half',
      );
      // Its yellow fires at the new time, hours before the major one's would have (the next morning).
      clock.at = cst('2026-11-23T12:02');
      assert.equal(await fleet.loop.tickets.runDue(), 1);
      assert.equal((await ticket())?.light, 'yellow');
      // A later minor repeat never loosens it.
      await send(unit, 'hrb-507', 'alarm', {
        seq: 2,
        ts: opened + 60_000,
        id: 'geofence-1',
        kind: 'geofence',
        severity: 'minor',
        state: 'raised',
        ...DAOLI,
      });
      await waitFor(async () => (await ticket())?.alarmCount === 3);
      assert.deepEqual([(await ticket())?.severity, (await ticket())?.deadlineAt], ['critical', cst('2026-11-23T14:01')]);
      // Opened and tightened in one batch: its one timer row goes in at the tightened yellow.
      const at = clock.at;
      const raise = (seq: number, severity: 'major' | 'critical') => ({
        kind: 'alarm' as const,
        unitId: 'hrb-508',
        payload: { ...intrusion(seq, 'motion-1'), ts: at, severity },
        receivedAt: at,
      });
      await fleet.loop.alarms.take([raise(1, 'major'), raise(2, 'critical')]);
      const both = await fleet.loop.ticketStore.db
        .selectFrom('tickets')
        .select(['id', 'severity', 'yellow_at'])
        .where('unit_id', '=', 'hrb-508')
        .execute();
      assert.deepEqual(
        both.map((r) => [r.severity, Number(r.yellow_at)]),
        [['critical', at + 2 * 3_600_000]],
      );
      const timer = await fleet.loop.ticketStore.db
        .selectFrom('ticket_timers')
        .select(['kind', 'due_at'])
        .where('ticket_id', '=', both[0]?.id as string)
        .execute();
      assert.deepEqual(
        timer.map((r) => [r.kind, Number(r.due_at)]),
        [['yellow', at + 2 * 3_600_000]],
      );
    });

    test('a satellite digest reconciles: an alarm seen only there opens its ticket; a digest without it clears it', async (t) => {
      const broker = await startBroker(t);
      const fleet = await startTestFleet(t, broker.url, { storageUrl: await storage() });
      const api = apiClient(fleet.base);
      const unit = await unitClient(t, broker.url, 'hrb-504');
      await send(unit, 'hrb-504', 'location', { seq: 1, ts: Date.now(), ...DAOLI, fix: '3d' });
      await waitFor(() => fleet.state.get('hrb-504')?.location !== null && fleet.state.get('hrb-504') !== undefined);
      const power = { soc: 40, batteryV: 12.8, solarW: 0, windW: 1, loadW: 2, state: 'satellite-digest' as const };
      const since = Date.now() - 60_000;
      await send(unit, 'hrb-504', 'digest', {
        seq: 2,
        ts: Date.now(),
        power,
        alarms: [{ id: 'tamper-1', kind: 'tamper', severity: 'major', since }],
      });
      await waitFor(async () => ((await api('GET', '/api/alarms?unit=hrb-504', null)).body.alarms as unknown[]).length === 1);
      const [alarm] = (await api('GET', '/api/alarms?unit=hrb-504', null)).body.alarms as {
        source: string;
        raisedAt: number;
        ticketId: string;
      }[];
      assert.deepEqual([alarm?.source, alarm?.raisedAt], ['digest', since]);
      assert.ok(alarm?.ticketId, 'the digest alone opened a ticket');
      await send(unit, 'hrb-504', 'digest', { seq: 3, ts: Date.now(), power, alarms: [] });
      await waitFor(async () => ((await api('GET', '/api/alarms?unit=hrb-504', null)).body.alarms as unknown[]).length === 0);
      const cleared = (await api('GET', '/api/alarms?unit=hrb-504&state=cleared', null)).body.alarms as unknown[];
      assert.equal(cleared.length, 1);
    });
  });
}

suite('SQLite', async () => '');

suite('PostgreSQL 15', postgresDatabases('alarms'));
