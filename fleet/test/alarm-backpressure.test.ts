/**
 * The alarm intake's backpressure (fleet/src/alarms/intake.ts, `queueMax`): past that many
 * unacknowledged messages its session stops reading — MQTT.js is not called back, so it stops
 * reading the socket and TCP holds the broker back — and once commits catch up it reads on and
 * drains everything, none lost, none taken twice. Each test runs on SQLite and on a real
 * PostgreSQL. The limit is lowered to `LIMIT` (production: 5,000) so a few hundred alarms reach it.
 *
 * What is bounded, and asserted: the intake decodes and queues `LIMIT` messages, no more (one more
 * per new connection); past them MQTT.js holds the rest of the socket read it is parsing and its
 * stream's buffer, then pauses the socket, and TCP holds the broker back. The broker keeps every
 * delivery unacknowledged (QoS 1 on a persistent session must): bounded by what units publish, not
 * by the intake — asserted as exactly one kept delivery per message, none twice.
 *
 * Vocabulary: *held* means the fleet's alarm batches wait at the database (`hold-writes.ts`); the
 * intake under test is the fleet's own `startAlarmIntake` on the fleet's own AlarmService, on a
 * broker of its own (the fleet's built-in intake is on another broker, so only this one takes).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { type TestContext, test } from 'node:test';
import { topics } from '@shouwang/protocol';
import { sql } from 'kysely';
import { pino } from 'pino';
import { type AlarmIntake, startAlarmIntake } from '../src/alarms/intake.ts';
import { intrusion } from './alarm-helpers.ts';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';
import { holdWrites } from './hold-writes.ts';
import { startMqttProxy } from './mqtt-proxy.ts';
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
    const r = await rig(t, store, await storage());
    const release = await holdWrites(r.fleet, store === 'PostgreSQL');
    try {
      await r.storm();
      await r.heldAtLimit(LIMIT);
      assert.equal(r.decoded(), LIMIT, 'no message decoded past the limit');
      assert.deepEqual(r.acked, [], 'nothing acknowledged before its commit');
    } finally {
      await release();
    }
    const { duplicates, decoded } = await r.drained();
    assert.deepEqual([duplicates, decoded], [0, ALARMS], 'each read once (no redelivery)');
  });

  test(`${store}: a connection lost while held (a broker's drain or keepalive timeout) costs redeliveries, not alarms`, async (t) => {
    const r = await rig(t, store, await storage());
    const release = await holdWrites(r.fleet, store === 'PostgreSQL');
    try {
      await r.storm();
      await r.heldAtLimit(LIMIT);
      // The broker end goes. The held session does not read, so it notices only when it next reads
      // or writes (here: once commits catch up; else at its keepalive).
      r.proxy.cut(SESSION);
      await r.heldAtLimit(LIMIT);
    } finally {
      await release();
    }
    // What the lost connection read is stored, and acknowledged only as the broker redelivers it on the next.
    const { duplicates, decoded } = await r.drained();
    t.diagnostic(`${duplicates} duplicates taken after the reconnect`);
    assert.ok(duplicates >= LIMIT, `the ${LIMIT} read on the lost connection came again (${duplicates} duplicates)`);
    assert.equal(decoded, ALARMS + duplicates, 'every message read more than once was a duplicate');
  });
}

/**
 * A fleet (its own intake on a broker nobody publishes to), the intake under test on the fleet's
 * AlarmService behind a proxy in front of the test's broker, and the storm, the held state and the
 * drained state as checks.
 */
async function rig(t: TestContext, store: string, storageUrl: string) {
  const elsewhere = await startBroker(t);
  // After-hooks run in the order added: the intake closes before the fleet's database does.
  let closing: AlarmIntake | undefined;
  t.after(() => closing?.close());
  const fleet = await startTestFleet(t, elsewhere.url, { storageUrl });
  const broker = await startBroker(t);
  const proxy = await startMqttProxy(t, broker.url);
  let decoded = 0;
  const intake = startAlarmIntake(
    {
      url: proxy.url,
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
  closing = intake;
  await intake.subscribed;
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
  const count = async (q: string) => Number((await sql<{ n: number }>`${sql.raw(q)}`.execute(fleet.loop.ticketStore.db)).rows[0]?.n);
  return {
    fleet,
    proxy,
    intake,
    acked,
    decoded: () => decoded,
    /** Every unit raises one alarm; the broker has them all (the publisher's PUBACKs) and delivered them to the session, unacknowledged. */
    async storm() {
      await Promise.all(units.map((u) => send(publisher, u, 'alarm', intrusion(1, 'motion-1', { message: 'x'.repeat(200) }))));
      await waitFor(async () => (await unackedAtBroker()) === ALARMS, 10_000).catch(async () =>
        assert.fail(`the broker holds ${await unackedAtBroker()} unacknowledged deliveries, not ${ALARMS}`),
      );
    },
    /** The intake holds `queued` messages, no more, and reads no further: what it left is in the socket's buffers and the broker. */
    async heldAtLimit(queued: number) {
      await waitFor(() => intake.queued === queued, 10_000).catch(() => assert.fail(`the intake queued ${intake.queued}, not ${queued}`));
      const socket = intake.client.stream as Socket;
      await waitFor(() => socket.readableFlowing === false, 10_000).catch(() =>
        assert.fail(`the session's socket still flowing (${socket.readableFlowing}): the intake does not hold TCP back`),
      );
      assert.equal(intake.queued, queued, 'the intake holds the limit, no more');
      assert.equal(await unackedAtBroker(), ALARMS, 'the broker keeps every one until acknowledged');
    },
    /** Commits caught up: the session read on, and every alarm is stored once and acknowledged once, in order. */
    async drained() {
      await waitFor(() => acked.length === ALARMS, 30_000).catch(() => assert.fail(`${acked.length} of ${ALARMS} acknowledged`));
      assert.deepEqual(
        acked,
        units.map((u) => topics.uplink(u, 'alarm')),
        'acknowledged in the order published',
      );
      assert.equal(await count('select count(*) as n from tickets'), ALARMS, 'a ticket for every alarm');
      assert.equal(await count('select count(*) as n from alarm_inbox'), ALARMS);
      assert.equal(fleet.loop.alarms.counts.taken, ALARMS, `each taken once (${JSON.stringify(fleet.loop.alarms.counts)})`);
      assert.equal(intake.queued, 0);
      assert.equal(await unackedAtBroker(), 0, 'the broker holds nothing more for the session');
      return { duplicates: fleet.loop.alarms.counts.duplicates, decoded };
    },
  };
}

/** Aedes's persistence (typed `any` by Aedes): the un-acknowledged QoS 1 deliveries it keeps per session. */
interface BrokerPersistence {
  persistence: { outgoingStream(client: { id: string }): AsyncIterable<unknown> };
}
