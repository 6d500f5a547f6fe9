/**
 * Waiting flows leases woken across fleet instances on one real PostgreSQL: the fleet's listener
 * (storage/pg-notify.ts) hears each channel's committed notifications, survives its connection
 * being killed (it reconnects, and callers are told they may have missed some), and while it is
 * down a waiting lease finds another instance's events by asking again. "Instance" here is a
 * database opened as a fleet opens it, with its own pool and outbox object.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { pino } from 'pino';
import { type LeaseWait, leaseWaiting } from '../src/flows/lease-wait.ts';
import type { FlowsOutbox } from '../src/storage/flows-outbox.ts';
import { notify, PgListener } from '../src/storage/pg-notify.ts';
import { append, instance } from './flows-helpers.ts';
import { waitFor } from './helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const database = postgresDatabases('flowsnotify');
const log = pino({ level: 'silent' });

function listen(t: Parameters<typeof instance>[0], url: string, applicationName = 'flows-notify-test') {
  const l = new PgListener({ url, log, applicationName, backoff: { baseMs: 50, capMs: 500 } }).start();
  t.after(() => l.close());
  return l;
}

/** A lease held on `outbox` that only a wake can answer within the test (unless `o` says otherwise). */
function waiting(outbox: FlowsOutbox, o: Partial<LeaseWait> = {}) {
  const started = Date.now();
  const lease = leaseWaiting(outbox, {
    now: Date.now,
    leaseMs: 60_000,
    limit: 10,
    waitMs: 30_000,
    recheckMs: 60_000,
    safetyMs: 60_000,
    signal: AbortSignal.timeout(30_000),
    ...o,
  });
  return {
    async answered(what: string) {
      const got = await Promise.race([
        lease,
        sleep(10_000).then(() => assert.fail(`the waiting lease did not answer ${what} within 10 s`)),
      ]);
      return { ids: got.events.map((e) => e.ticket.id), ms: Date.now() - started };
    },
  };
}

test('the listener hears committed notifications by channel, several of one statement in order, none of a rolled-back transaction; a failing callback stops no other', async (t) => {
  const url = await database();
  const db = (await instance(t, url)).db;
  const l = listen(t, url);
  const heard: string[] = [];
  l.on('one', (p) => heard.push(`one:${p}`));
  l.on('one', () => {
    throw new Error('a broken callback');
  });
  l.on('two', (p) => heard.push(`two:${p}`));
  await waitFor(() => l.listening);
  heard.length = 0;
  await db
    .transaction()
    .execute(async (tx) => {
      await notify(tx, 'one', ['rolled back']);
      throw new Error('roll back');
    })
    .catch(() => {});
  await db.transaction().execute((tx) => notify(tx, 'two', ['b']));
  // Several payloads in one statement arrive in their order.
  await db.transaction().execute((tx) => notify(tx, 'one', ['a', 'c', 'd']));
  await waitFor(() => heard.length >= 4);
  await sleep(50);
  assert.deepEqual(heard, ['two:b', 'one:a', 'one:c', 'one:d']);
  assert.throws(() => l.on("x'; drop table units; --", () => {}), /not a channel name/);
});

test("a lease waiting on instance A is answered when instance B commits, again after A's listening connection is killed", async (t) => {
  const url = await database();
  const [a, b] = [await instance(t, url), await instance(t, url)];
  const l = listen(t, url, 'flows-notify-killed');
  a.outbox.hear(l);
  let missed = 0;
  l.on('shouwang_flows_leasable', (p) => {
    if (p === null) missed++;
  });
  await waitFor(() => a.outbox.othersHeard());
  missed = 0;

  const first = waiting(a.outbox);
  await sleep(100);
  await append(b, ['t-1'], Date.now());
  const one = await first.answered("instance B's commit");
  assert.deepEqual(one.ids, ['t-1']);
  assert.ok(one.ms < 5_000, `answered after ${one.ms} ms`);

  const killed = await sql<{ pid: number }>`select pg_terminate_backend(pid) as killed, pid from pg_stat_activity
    where application_name = 'flows-notify-killed'`.execute(b.db);
  assert.equal(killed.rows.length, 1, 'one listening connection per listener');
  // Told of the drop, then of the connection back: two chances to look again.
  await waitFor(() => missed >= 2 && l.listening, 5_000);
  assert.ok(a.outbox.othersHeard());

  const second = waiting(a.outbox);
  await sleep(100);
  await append(b, ['t-2'], Date.now());
  const two = await second.answered("instance B's commit after the reconnect");
  assert.deepEqual(two.ids, ['t-2']);
  assert.ok(two.ms < 5_000, `answered after ${two.ms} ms`);
});

test("while the listener cannot connect, a waiting lease finds instance B's events by asking again every recheckMs", async (t) => {
  const url = await database();
  const [a, b] = [await instance(t, url), await instance(t, url)];
  // A port nothing listens on: the listener keeps retrying and never hears.
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  server.close();
  const nowhere = new URL(url);
  nowhere.port = String(port);
  const l = listen(t, nowhere.toString());
  a.outbox.hear(l);
  await sleep(200);
  assert.equal(a.outbox.othersHeard(), false);

  const lease = waiting(a.outbox, { recheckMs: 100 });
  await sleep(100);
  await append(b, ['t-3'], Date.now());
  const got = await lease.answered('by asking again');
  assert.deepEqual(got.ids, ['t-3']);
  assert.ok(got.ms < 5_000, `answered after ${got.ms} ms`);
});
