/**
 * Guarantees of the alarm → ticket path that hold across batches and restarts, each on SQLite and
 * on a real PostgreSQL (the same test, `STORES`): an episode is stored whole on every repeat (read
 * back by a restarted fleet), a ticket's outbox events keep their order when many land in one
 * batch (read back through the lease, as the flows get them), and a message taken once is never
 * decided again — neither when the broker redelivers it (the fleet's PUBACK lost after its commit)
 * nor when the unit sends it twice. Vocabulary: a *step* is one message (or person's action) taken
 * in a batch of its own, waited for until committed.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { type Alarm, topics } from '@shouwang/protocol';
import { sql } from 'kysely';
import type { IntakeMessage } from '../src/alarms/alarm-service.ts';
import { fingerprint } from '../src/domain/alarm-engine.ts';
import { alarmOccurrences } from '../src/storage/alarm-occurrences.ts';
import { DAOLI, intrusion } from './alarm-helpers.ts';
import { send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';
import { holdWrites } from './hold-writes.ts';
import { startMqttProxy } from './mqtt-proxy.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('guarantees');
const STORES = [
  ['SQLite', async () => ''],
  ['PostgreSQL', postgres],
] as const;

const UNIT = 'hrb-001';
/** Event time of the first raise. */
const T0 = Date.parse('2026-11-20T10:00:00Z');

/** A fleet's clock, moved by the test. */
const testClock = (at: number) => ({
  at,
  now() {
    return this.at;
  },
});

type Fleet = Awaited<ReturnType<typeof startTestFleet>>;

const count = async (f: Fleet, q: string) => Number((await sql<{ n: number }>`${sql.raw(q)}`.execute(f.loop.ticketStore.db)).rows[0]?.n);

/** Waits until the fleet has taken `taken` messages in all (each step's batch committed). */
const takenBy = (f: Fleet, taken: number) =>
  waitFor(() => f.loop.alarms.counts.taken === taken, 10_000).catch(() =>
    assert.fail(`expected ${taken} messages taken; counts: ${JSON.stringify(f.loop.alarms.counts)}`),
  );

for (const [store, storage] of STORES) {
  test(`${store}: a repeated alarm's episode is read back by a restarted fleet with every field its repeats changed`, async (t) => {
    const { url } = await startBroker(t);
    const dataDir = await tempDir(t);
    const storageUrl = await storage();
    const clock = testClock(T0 + 200_000); // past lateAfterS (120 s): the episode is late
    const fleet = await startTestFleet(t, url, { dataDir, storageUrl, clock, instanceId: 'a' });
    const unit = await unitClient(t, url, UNIT);
    const step = async (n: number, alarm: Alarm) => {
      clock.at += 10_000;
      await send(unit, UNIT, 'alarm', alarm);
      await takenBy(fleet, n);
      // Acknowledged: the evidence head, handed on after the commit and before the PUBACK, is stored too.
      await waitFor(() => fleet.loop.intake.queued === 0, 10_000).catch(() =>
        assert.fail(`step ${n} committed but not acknowledged: what is handed on after the commit (the evidence head) keeps failing`),
      );
    };
    /** The evidence chain head each raise carries (protocol Alarm.evidence). */
    const head = (c: string) => c.repeat(64);
    const episode = fingerprint(UNIT, 'motion', 'm-1');
    const at = (lat: number) => ({ lat: DAOLI.lat + lat, lon: DAOLI.lon + lat });

    await step(1, intrusion(1, 'm-1', { ts: T0, severity: 'minor', value: 1, message: 'first', evidence: head('a'), ...at(0) }));
    const receivedAt = clock.at;
    // A repeat of the same occurrence, later and worse: counted, with its severity and evidence.
    await step(2, intrusion(2, 'm-1', { ts: T0 + 60_000, severity: 'critical', value: 2, message: 'second', ...at(0.001) }));
    const repeated = await fleet.loop.alarms.get(episode);
    assert.deepEqual(
      [repeated.repeats, repeated.severity, repeated.priority, repeated.value, repeated.message, repeated.updatedAt],
      [1, 'critical', 'urgent', 2, 'second', clock.at],
      'the repeat stored with every field it changed',
    );
    // A person acknowledges and shelves it; the next repeat (a new occurrence while it is open) keeps both.
    clock.at += 10_000;
    const acked = clock.at;
    await fleet.loop.alarms.acknowledge(episode, 'duty-1');
    await fleet.loop.alarms.shelve(episode, 'duty-1', 'crew on site', 30);
    await step(
      3,
      intrusion(3, 'm-2', { ts: T0 + 120_000, severity: 'major', value: 3, message: 'third', evidence: head('b'), ...at(0.002) }),
    );
    await step(4, intrusion(4, 'm-1', { ts: T0 + 180_000, state: 'cleared' }));
    const cleared = await fleet.loop.alarms.get(episode);
    assert.deepEqual([cleared.state, cleared.clearedAt], ['cleared', T0 + 180_000], 'the clear stored');
    // Raised again within the chatter window (300 s): the same episode, active again.
    await step(
      5,
      intrusion(5, 'm-3', { ts: T0 + 240_000, severity: 'info', value: 5, message: 'fifth', evidence: head('c'), ...at(0.003) }),
    );
    const lastChange = clock.at;
    // A low battery, then the fleet's own offline alarm back-filled before it: the offline inhibits it.
    await step(6, { seq: 6, id: 'b-1', kind: 'low-battery', severity: 'minor', state: 'raised', ts: T0 + 300_000, ...DAOLI });
    await fleet.loop.alarms.signal({
      unitId: UNIT,
      kind: 'unit-offline',
      occurrence: 'offline',
      state: 'raised',
      severity: 'major',
      source: 'fleet',
      ts: T0 + 290_000,
      receivedAt: clock.at,
    });
    await fleet.close();

    const restarted = await startTestFleet(t, url, { dataDir, storageUrl, clock, instanceId: 'b' });
    const r = await restarted.loop.alarms.get(episode);
    assert.ok(r.ticketId, 'the episode has its ticket');
    assert.deepEqual(
      { ...r, ticketId: 'set' },
      {
        episode,
        unitId: UNIT,
        kind: 'motion',
        source: 'unit',
        severity: 'info',
        priority: 'low',
        category: 'public-security',
        state: 'active',
        raisedAt: T0,
        receivedAt,
        clearedAt: null,
        updatedAt: lastChange,
        late: true,
        repeats: 2,
        chatter: 1,
        inhibitedBy: null,
        ackedBy: 'duty-1',
        ackedAt: acked,
        shelvedUntil: acked + 30 * 60_000,
        shelvedBy: 'duty-1',
        shelveReason: 'crew on site',
        ...at(0.003),
        value: 5,
        message: 'fifth',
        ticketId: 'set',
      },
      'the episode as its last repeat left it',
    );
    const battery = await restarted.loop.alarms.get(fingerprint(UNIT, 'low-battery', 'b-1'));
    assert.equal(battery.inhibitedBy, fingerprint(UNIT, 'unit-offline', 'offline'), 'the inhibition stored on the earlier episode');
    const ticket = await restarted.loop.ticketStore.get(restarted.loop.ticketStore.db, r.ticketId);
    assert.equal(ticket?.alarm_count, 4, 'the ticket counted the raise and the three repeats that merged into it');
    // The unit's alarms behind the ticket, each with the evidence head it was raised with (the repeat of m-1 carried none).
    const occurrences = await alarmOccurrences(restarted.loop.ticketStore.db, { ticketId: r.ticketId });
    assert.deepEqual(occurrences.map((o) => o.alarmId).sort(), ['m-1', 'm-2', 'm-3']);
    for (const [alarmId, c] of [
      ['m-1', 'a'],
      ['m-2', 'b'],
      ['m-3', 'c'],
    ] as const)
      assert.equal((await restarted.media.evidence.status(UNIT, alarmId))?.raisedHead, head(c), `${alarmId}'s evidence head`);
  });

  test(`${store}: many alarms for the same tickets in ONE batch reach the flows' lease created, then merged in order, then the state move`, async (t) => {
    const { url } = await startBroker(t);
    const clock = testClock(T0);
    const fleet = await startTestFleet(t, url, { storageUrl: await storage(), clock });
    const units = ['hrb-011', 'hrb-012', 'hrb-013', 'hrb-014'];
    const ROUNDS = 5;
    const storm = units.length * ROUNDS;
    const publisher = await unitClient(t, url, 'storm');
    // The first batch (another unit's alarm) waits for the database; the storm queues behind it and
    // goes in the next batch, whole.
    const release = await holdWrites(fleet, store === 'PostgreSQL');
    try {
      await send(publisher, 'hrb-010', 'alarm', intrusion(1, 'm-1', { ts: T0 }));
      // Interleaved as a storm arrives: every unit's first alarm, then every unit's second, …
      for (let round = 1; round <= ROUNDS; round++)
        for (const unitId of units) await send(publisher, unitId, 'alarm', intrusion(round, `m-${round}`, { ts: T0 + round * 1000 }));
      await waitFor(() => fleet.loop.intake.queued === 1 + storm, 10_000);
    } finally {
      await release();
    }
    await takenBy(fleet, 1 + storm);
    const db = fleet.loop.ticketStore.db;
    const tickets = await db.selectFrom('tickets').select(['id', 'unit_id', 'state']).where('unit_id', 'in', units).execute();
    assert.equal(tickets.length, units.length, 'one ticket per unit');
    if (store === 'PostgreSQL')
      assert.equal(
        await count(
          fleet,
          "select count(distinct xmin::text) as n from flows_outbox where ticket_id in (select id from tickets where unit_id <> 'hrb-010')",
        ),
        1,
        'the storm written by one transaction',
      );
    // A state move after the batch: the crew signs for each ticket.
    clock.at += 60_000;
    for (const tk of tickets) {
      assert.equal(tk.state, 'dispatched', 'routed by the grid cell');
      await fleet.loop.tickets.act(tk.id, 'sign', 'crew-1', {});
    }
    // As the flows take them: lease, deliver, lease again (a ticket's next event only once the one before it settled).
    const delivered = new Map<string, string[]>();
    for (let round = 0; round < 2 * ROUNDS; round++) {
      const events = await fleet.loop.outbox.lease(clock.now(), 60_000, 100);
      if (events.length === 0) break;
      for (const e of events) {
        const seen = delivered.get(e.ticket.unitId) ?? [];
        seen.push(`${e.action}:${e.ticket.alarmCount}:${e.ticket.state}`);
        delivered.set(e.ticket.unitId, seen);
      }
      await fleet.loop.outbox.settle(
        events.map((e) => ({ seq: e.seq, outcome: 'delivered' as const })),
        clock.now(),
      );
    }
    const expected = [
      'dispatch:1:dispatched',
      'merge:2:dispatched',
      'merge:3:dispatched',
      'merge:4:dispatched',
      'merge:5:dispatched',
      'sign:5:signed-for',
    ];
    for (const unitId of units) assert.deepEqual(delivered.get(unitId), expected, `${unitId}'s events in the order they happened`);
  });

  test(`${store}: an alarm the broker redelivers (the fleet's PUBACK lost after its commit) is taken once`, async (t) => {
    const { fleet, proxy, session, acked, unit, stored } = await duplicateRig(t, await storage());
    // The fleet commits, and its PUBACK never reaches the broker: the broker redelivers on the next connection.
    const cut = proxy.cutAtNextPuback(session);
    await send(unit, UNIT, 'alarm', ALARM);
    await cut;
    assert.equal(fleet.loop.alarms.counts.taken, 1, 'committed before the PUBACK was lost');
    assert.deepEqual(acked, [], 'the broker never saw the PUBACK');
    await waitFor(() => acked.length === 1, 15_000);
    assert.equal(proxy.publishedTo(session), 2, 'the broker delivered it twice');
    assert.deepEqual(await stored(), ONCE, 'the redelivery changed nothing');
    assert.deepEqual(fleet.loop.alarms.counts, { taken: 1, duplicates: 1, signals: 0 }, 'the redelivery taken as a duplicate');
    // A new message repeating the alarm (its next seq) does count: the redelivery was recognised, not the alarm ignored.
    await send(unit, UNIT, 'alarm', { ...ALARM, seq: 2 });
    await takenBy(fleet, 2);
    assert.deepEqual(await stored(), { repeats: 1, alarmCount: 2, inbox: 2, outbox: 2, merges: 1 });
    // Taken is committed; its PUBACK reaches the broker through the proxy a moment later.
    await waitFor(() => acked.length === 2, 10_000);
    assert.deepEqual(acked, [topics.uplink(UNIT, 'alarm'), topics.uplink(UNIT, 'alarm')]);
  });

  test(`${store}: an alarm the unit sent twice (same seq) is taken once, in two batches or in one`, async (t) => {
    const { fleet, acked, unit, stored } = await duplicateRig(t, await storage());
    await send(unit, UNIT, 'alarm', ALARM);
    await takenBy(fleet, 1);
    // The unit's outbox resent it after a reconnect: the same message, its own batch.
    await send(unit, UNIT, 'alarm', ALARM);
    await waitFor(() => acked.length === 2, 10_000);
    assert.deepEqual(await stored(), ONCE, 'the second copy changed nothing');
    assert.deepEqual(fleet.loop.alarms.counts, { taken: 1, duplicates: 1, signals: 0 }, 'the second copy taken as a duplicate');
    // Both copies of a new message in one batch (a burst after the unit's reconnect): the second is a duplicate.
    const copy: IntakeMessage = { kind: 'alarm', unitId: UNIT, payload: { ...ALARM, seq: 2 }, receivedAt: T0 };
    assert.deepEqual(await fleet.loop.alarms.take([copy, copy]), [true, false], 'the copy in the same batch is not new');
    assert.deepEqual(await stored(), { repeats: 1, alarmCount: 2, inbox: 2, outbox: 2, merges: 1 }, 'counted once');
  });
}

const ALARM = intrusion(1, 'm-1', { ts: T0 });
/** What one alarm leaves: its episode, a ticket counting one alarm, one inbox row, one outbox event, no merge. */
const ONCE = { repeats: 0, alarmCount: 1, inbox: 1, outbox: 1, merges: 0 };

/** A fleet behind the proxy (its PUBACKs can be lost), the PUBACKs the broker got from its alarm session, a unit, and what one alarm left. */
async function duplicateRig(t: TestContext, storageUrl: string) {
  const broker = await startBroker(t);
  const proxy = await startMqttProxy(t, broker.url);
  const fleet = await startTestFleet(t, proxy.url, { storageUrl, clock: testClock(T0) });
  const session = fleet.loop.intake.client.options.clientId as string;
  const acked: string[] = [];
  broker.aedes.on('ack', (packet, client) => {
    if (client?.id === session && packet && 'topic' in packet) acked.push(packet.topic);
  });
  const unit = await unitClient(t, broker.url, UNIT);
  const episode = fingerprint(UNIT, 'motion', 'm-1');
  const stored = async () => {
    const r = await fleet.loop.alarms.get(episode);
    const ticket = await fleet.loop.ticketStore.get(fleet.loop.ticketStore.db, r.ticketId as string);
    return {
      repeats: r.repeats,
      alarmCount: ticket?.alarm_count,
      inbox: await count(fleet, 'select count(*) as n from alarm_inbox'),
      outbox: await count(fleet, 'select count(*) as n from flows_outbox'),
      merges: await count(fleet, "select count(*) as n from ticket_events where action = 'merge'"),
    };
  };
  return { fleet, proxy, session, acked, unit, stored };
}
