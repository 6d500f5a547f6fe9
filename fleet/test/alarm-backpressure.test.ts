/**
 * The alarm intake's backpressure (fleet/src/alarms/intake.ts, `queueMax`): past that many
 * unacknowledged messages its session stops reading — MQTT.js is not called back, so it stops
 * reading the socket and TCP holds the broker back — and once commits catch up it reads on and
 * drains everything, none lost, none taken twice. Each test runs on SQLite and on a real
 * PostgreSQL. The limit is lowered to `LIMIT` (production: 5,000) so a few hundred alarms reach it.
 *
 * Vocabulary: *held* means the fleet's alarm batches wait at the database (`hold-writes.ts`); the
 * intake under test is the fleet's own `startAlarmIntake` on the fleet's own AlarmService, on a
 * broker of its own (the fleet's built-in intake is on another broker, so only this one takes).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { topics } from '@shouwang/protocol';
import { sql } from 'kysely';
import { pino } from 'pino';
import { type AlarmIntake, startAlarmIntake } from '../src/alarms/intake.ts';
import { intrusion } from './alarm-helpers.ts';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';
import { holdWrites } from './hold-writes.ts';
import { postgresDatabases } from './postgres-helper.ts';

const postgres = postgresDatabases('backpressure');
const STORES = [
  ['SQLite', async () => ''],
  ['PostgreSQL', postgres],
] as const;

const LIMIT = 100;
/** Published while held: four times the limit, ~400 B each (a message text), so what the fleet leaves unread fills its socket's buffers. */
const ALARMS = 4 * LIMIT;
const SESSION = 'fleet-backpressure-alarms';

for (const [store, storage] of STORES) {
  test(`${store}: past the limit of unacknowledged alarms the intake stops reading, loses none, and drains everything once commits catch up`, async (t) => {
    const elsewhere = await startBroker(t);
    // After-hooks run in the order added: the intake closes before the fleet's database does.
    let intake: AlarmIntake | undefined;
    t.after(() => intake?.close());
    const fleet = await startTestFleet(t, elsewhere.url, { storageUrl: await storage() });
    const broker = await startBroker(t);
    let decoded = 0;
    intake = startAlarmIntake(
      {
        url: broker.url,
        username: '',
        password: '',
        clientId: SESSION,
        clock: { now: () => Date.now() },
        overlap: store === 'PostgreSQL',
        queueMax: LIMIT,
        observe: () => decoded++,
      },
      fleet.loop.alarms,
      pino({ level: process.env.TEST_LOG ?? 'silent' }),
    );
    const mine = intake;
    await mine.subscribed;
    const acked: string[] = [];
    broker.aedes.on('ack', (packet, client) => {
      if (client?.id === SESSION && packet && 'topic' in packet) acked.push(packet.topic);
    });
    /** QoS 1 messages the broker delivered to the session and keeps until their PUBACK. */
    const unackedAtBroker = async () => {
      let n = 0;
      for await (const _ of (broker.aedes as unknown as BrokerPersistence).persistence.outgoingStream({ id: SESSION })) n++;
      return n;
    };
    const units = Array.from({ length: ALARMS }, (_, i) => `hrb-${String(i).padStart(4, '0')}`);
    const publisher = await unitClient(t, broker.url, 'storm');
    const release = await holdWrites(fleet, store === 'PostgreSQL');
    try {
      await Promise.all(units.map((u) => send(publisher, u, 'alarm', intrusion(1, 'motion-1', { message: 'x'.repeat(200) }))));
      // The broker has them all (the publisher's PUBACKs) and delivered them to the session, unacknowledged.
      await waitFor(async () => (await unackedAtBroker()) === ALARMS, 10_000).catch(async () =>
        assert.fail(`the broker holds ${await unackedAtBroker()} unacknowledged deliveries, not ${ALARMS}`),
      );
      await waitFor(() => mine.queued === LIMIT, 10_000).catch(() => assert.fail(`the intake queued ${mine.queued}, not ${LIMIT}`));
      // Held, the session read no further: what it left is in the socket's buffers and the broker.
      const socket = mine.client.stream as Socket;
      await waitFor(() => socket.readableFlowing === false, 10_000).catch(() =>
        assert.fail(`the session's socket still flowing (${socket.readableFlowing}): the intake does not hold TCP back`),
      );
      assert.equal(decoded, LIMIT, 'no message decoded past the limit');
      assert.equal(mine.queued, LIMIT, 'the intake holds the limit, no more');
      assert.deepEqual(acked, [], 'nothing acknowledged before its commit');
    } finally {
      await release();
    }
    // Commits catch up: the session reads on, and everything is stored once and acknowledged in order.
    await waitFor(() => acked.length === ALARMS, 30_000).catch(() => assert.fail(`${acked.length} of ${ALARMS} acknowledged`));
    assert.deepEqual(
      acked,
      units.map((u) => topics.uplink(u, 'alarm')),
      'acknowledged in the order published',
    );
    const count = async (q: string) => Number((await sql<{ n: number }>`${sql.raw(q)}`.execute(fleet.loop.ticketStore.db)).rows[0]?.n);
    assert.equal(await count('select count(*) as n from tickets'), ALARMS, 'a ticket for every alarm');
    assert.equal(await count('select count(*) as n from alarm_inbox'), ALARMS);
    assert.deepEqual(fleet.loop.alarms.counts, { taken: ALARMS, duplicates: 0, signals: 0 }, 'each taken once');
    assert.equal(decoded, ALARMS, 'each read once (no redelivery)');
    assert.equal(mine.queued, 0);
    assert.equal(await unackedAtBroker(), 0, 'the broker holds nothing more for the session');
  });
}

/** Aedes's persistence (typed `any` by Aedes): the un-acknowledged QoS 1 deliveries it keeps per session. */
interface BrokerPersistence {
  persistence: { outgoingStream(client: { id: string }): AsyncIterable<unknown> };
}
