/**
 * The intake's acknowledgement contract on a real broker and PostgreSQL: a batch of alarms is
 * acknowledged (PUBACK) only after its transaction committed, in the order received, and the next
 * batch is decided while the one before it writes. Vocabulary: the broker's `ack` event fires when
 * a subscriber's PUBACK for a QoS 1 delivery arrives; a "blocker" is another PostgreSQL session
 * holding a table lock, so the fleet's transaction waits at the statement that needs that table.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { type TestContext, test } from 'node:test';
import { topics } from '@shouwang/protocol';
import { startPostgres } from '@shouwang/testkit';
import { Aedes } from 'aedes';
import pg from 'pg';
import { pino } from 'pino';
import { intrusion } from './alarm-helpers.ts';
import { send, startTestFleet, unitClient, waitFor } from './helpers.ts';

const UNITS = 50;

/** A broker, PostgreSQL, a fleet on it, the PUBACKs its alarm session sent, and SQL sessions of the test's own. */
async function rig(t: TestContext) {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const teardown: (() => Promise<unknown>)[] = [];
  let fleet: Awaited<ReturnType<typeof startTestFleet>> | undefined;
  const clients: pg.Client[] = [];
  // After-hooks run in the order they were added: everything closes before PostgreSQL stops.
  // The test's locks go first, or a failed test would leave the fleet's batch waiting on them.
  t.after(async () => {
    for (const c of clients) await c.end();
    await fleet?.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    for (const fn of teardown) await fn();
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { url: storageUrl } = await startPostgres((fn) => teardown.unshift(fn));
  const lines: { msg?: string; clientId?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  fleet = await startTestFleet(t, url, { storageUrl, instanceId: 'acks', log });
  const session = fleet.loop.intake.client.options.clientId;
  const acked: string[] = [];
  broker.on('ack', (packet, client) => {
    if (client?.id === session && packet && 'topic' in packet) acked.push(packet.topic);
  });
  const sql = async () => {
    const c = new pg.Client({ connectionString: storageUrl });
    await c.connect();
    clients.push(c);
    return c;
  };
  const watcher = await sql();
  /** Statements of the fleet's waiting for a lock on `table`. */
  const waitingOn = async (table: string) =>
    Number((await watcher.query('select count(*) as n from pg_locks where relation = $1::regclass and not granted', [table])).rows[0]?.n);
  return { fleet, url, acked, sql, waitingOn, session, lines };
}

const unitIds = (n: number) => Array.from({ length: n }, (_, i) => `hrb-${String(i).padStart(3, '0')}`);

test('alarms are acknowledged only after the batch that stores them committed, in the order received', async (t) => {
  const { fleet, url, acked, sql, waitingOn, session, lines } = await rig(t);
  // The alarm session is named after the fleet's own session (`fleet-<instance>`), and says so.
  assert.equal(session, 'fleet-acks-alarms-acks');
  assert.ok(lines.some((l) => l.msg === 'alarm intake connected' && l.clientId === session));
  // Another session holds the inbox: the fleet's batch waits inside its transaction.
  const blocker = await sql();
  await blocker.query('begin');
  await blocker.query('lock table alarm_inbox in exclusive mode');
  const publisher = await unitClient(t, url, 'storm');
  const units = unitIds(UNITS);
  await Promise.all(units.map((u) => send(publisher, u, 'alarm', intrusion(1, 'motion-1'))));
  // The fleet's batch is inside its transaction, waiting for the inbox; the rest wait behind it.
  await waitFor(async () => (await waitingOn('alarm_inbox')) > 0, 10_000);
  await waitFor(() => fleet.loop.intake.queued === UNITS, 10_000);
  assert.deepEqual(acked, [], 'nothing acknowledged while its transaction is open');

  await blocker.query('commit');
  await waitFor(() => acked.length === UNITS, 10_000);
  const stored = await blocker.query('select count(*) as n from tickets');
  assert.equal(Number(stored.rows[0]?.n), UNITS, 'every acknowledged alarm has its ticket');
  const order = units.map((u) => topics.uplink(u, 'alarm'));
  assert.deepEqual(acked, order, 'acknowledged in the order received');
});

test('on PostgreSQL the next batch is decided and committed while the one before it waits; acknowledgements stay in order', async (t) => {
  const { url, acked, sql } = await rig(t);
  const watcher = await sql();
  const count = async (q: string) => Number((await watcher.query(q)).rows[0]?.n);
  const publisher = await unitClient(t, url, 'storm');
  const [first, ...rest] = unitIds(10) as [string, ...string[]];
  await send(publisher, first, 'alarm', intrusion(1, 'motion-1'));
  await waitFor(() => acked.length === 1, 10_000);
  // Another session holds the first unit's ticket row: a repeat's batch waits where it merges into it.
  const blocker = await sql();
  await blocker.query('begin');
  await blocker.query('select id from tickets where unit_id = $1 for update', [first]);
  await send(publisher, first, 'alarm', intrusion(2, 'motion-1'));
  await waitFor(async () => (await count("select count(*) as n from pg_stat_activity where wait_event_type = 'Lock'")) === 1, 10_000);
  // Alarms of other units, arriving meanwhile, are decided and committed in a batch of their own…
  await Promise.all(rest.map((u) => send(publisher, u, 'alarm', intrusion(1, 'motion-1'))));
  await waitFor(async () => (await count('select count(*) as n from tickets')) === 10, 10_000);
  // …and acknowledged only after the repeat that came before them.
  await blocker.query('commit');
  await waitFor(() => acked.length === 11, 10_000);
  assert.deepEqual(
    acked,
    [first, first, ...rest].map((u) => topics.uplink(u, 'alarm')),
    'acknowledged in the order received',
  );
  const merged = await watcher.query('select alarm_count from tickets where unit_id = $1', [first]);
  assert.equal(merged.rows[0]?.alarm_count, 2, 'the repeat merged into the open ticket');
});
