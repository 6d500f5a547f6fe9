/**
 * The intake's acknowledgement contract on a real broker and PostgreSQL: a batch of alarms is
 * acknowledged (PUBACK) only after its transaction committed, in the order received. Vocabulary:
 * the broker's `ack` event fires when a subscriber's PUBACK for a QoS 1 delivery arrives.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { topics } from '@shouwang/protocol';
import { startPostgres } from '@shouwang/testkit';
import { Aedes } from 'aedes';
import pg from 'pg';
import { intrusion } from './alarm-helpers.ts';
import { send, startTestFleet, unitClient, waitFor } from './helpers.ts';

const UNITS = 50;

test('alarms are acknowledged only after the batch that stores them committed, in the order received', async (t) => {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const teardown: (() => Promise<unknown>)[] = [];
  let fleet: Awaited<ReturnType<typeof startTestFleet>> | undefined;
  const clients: pg.Client[] = [];
  // After-hooks run in the order they were added: everything closes before PostgreSQL stops.
  // The inbox's lock goes first, or a failed test would leave the fleet's batch waiting on it.
  t.after(async () => {
    for (const c of clients) await c.end();
    await fleet?.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    for (const fn of teardown) await fn();
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { url: storageUrl } = await startPostgres((fn) => teardown.unshift(fn));
  fleet = await startTestFleet(t, url, { storageUrl, instanceId: 'acks' });
  const session = fleet.loop.intake.client.options.clientId;
  const acked: string[] = [];
  broker.on('ack', (packet, client) => {
    if (client?.id === session && packet && 'topic' in packet) acked.push(packet.topic);
  });

  // Another session holds the inbox: the fleet's batch waits inside its transaction.
  const blocker = new pg.Client({ connectionString: storageUrl });
  await blocker.connect();
  clients.push(blocker);
  await blocker.query('begin');
  await blocker.query('lock table alarm_inbox in exclusive mode');
  const publisher = await unitClient(t, url, 'storm');
  const units = Array.from({ length: UNITS }, (_, i) => `hrb-${String(i).padStart(3, '0')}`);
  await Promise.all(units.map((u) => send(publisher, u, 'alarm', intrusion(1, 'motion-1'))));
  // The fleet's batch is inside its transaction, waiting for the inbox; the rest wait behind it.
  const watcher = new pg.Client({ connectionString: storageUrl });
  await watcher.connect();
  clients.push(watcher);
  const waiting = async () =>
    Number(
      (await watcher.query("select count(*) as n from pg_locks where relation = 'alarm_inbox'::regclass and not granted")).rows[0]?.n,
    ) > 0;
  await waitFor(waiting, 10_000);
  await waitFor(() => fleet?.loop.intake.queued === UNITS, 10_000);
  assert.deepEqual(acked, [], 'nothing acknowledged while its transaction is open');

  await blocker.query('commit');
  await waitFor(() => acked.length === UNITS, 10_000);
  const stored = await blocker.query('select count(*) as n from tickets');
  assert.equal(Number(stored.rows[0]?.n), UNITS, 'every acknowledged alarm has its ticket');
  const order = units.map((u) => topics.uplink(u, 'alarm'));
  assert.deepEqual(acked, order, 'acknowledged in the order received');
});
