/**
 * Delivered ticket events leave the flows outbox after `flows.outbox.keepDays`, on SQLite and on a
 * real PostgreSQL: exactly the old delivered ones go (never pending, leased or dead-lettered
 * ones), a ticket's order and the seqs a consumer has seen still hold after it, and the run fires
 * once per interval however many fleet instances poll for it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '@shouwang/runtime';
import { pino } from 'pino';
import { FleetConfig } from '../src/config.ts';
import { OutboxPruning } from '../src/flows/outbox-pruning.ts';
import { append, instance } from './flows-helpers.ts';
import { postgresDatabases } from './postgres-helper.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const POLICY = { keepDays: 30, pruneBatch: 2, intervalS: 3600, pollS: 60 };

function suite(name: string, storage: () => Promise<string>) {
  describe(`flows outbox pruning on ${name}`, () => {
    test('removes exactly the delivered events older than keepDays, in batches; order, leases and seqs hold', async (t) => {
      const f = await instance(t, await storage());
      const seqs = async (id: string) => (await f.outbox.forTicket(id)).map((e) => [e.action, e.state]);
      // Old (T0): a-1, a-2 delivered, a-3 pending; b-1 dead-lettered, b-2 waiting behind it; c-1 leased
      // and never settled; d-1 delivered recently; e-1, e-2 delivered, the newest seqs of all.
      await append(f, ['a', 'a', 'a', 'b', 'b', 'c', 'd', 'e', 'e'], T0);
      const all = await f.db.selectFrom('flows_outbox').select(['seq', 'ticket_id']).orderBy('seq').execute();
      const seqOf = (id: string, n: number) => all.filter((r) => r.ticket_id === id)[n]?.seq as number;
      const leased = await f.outbox.lease(T0, 60_000, 100);
      assert.deepEqual(
        leased.map((e) => e.ticket.id),
        ['a', 'b', 'c', 'd', 'e'],
      );
      await f.outbox.settle(
        [
          { seq: seqOf('a', 0), outcome: 'delivered' },
          { seq: seqOf('b', 0), outcome: 'dead-letter', reason: '422' },
          { seq: seqOf('e', 0), outcome: 'delivered' },
        ],
        T0,
      );
      const second = await f.outbox.lease(T0 + 1, 60_000, 100);
      assert.deepEqual(
        second.map((e) => e.seq),
        [seqOf('a', 1), seqOf('e', 1)],
      );
      await f.outbox.settle(
        [
          { seq: seqOf('a', 1), outcome: 'delivered' },
          { seq: seqOf('e', 1), outcome: 'delivered' },
        ],
        T0 + 2,
      );
      const now = T0 + 40 * DAY;
      await f.outbox.settle([{ seq: seqOf('d', 0), outcome: 'delivered' }], now - 29 * DAY);
      const highest = Math.max(...all.map((r) => r.seq));

      const pruning = new OutboxPruning({
        db: f.db,
        outbox: f.outbox,
        policy: POLICY,
        clock: { now: () => now },
        instanceId: 'one',
        log: pino({ level: 'silent' }),
      });
      assert.equal(await pruning.run(), 4, 'a-1, a-2, e-1, e-2: two full batches of two and an empty one');

      assert.deepEqual(await seqs('a'), [['sign', 'pending']], "a's delivered events gone, its pending one kept");
      assert.deepEqual(await seqs('b'), [
        ['sign', 'dead-letter'],
        ['sign', 'pending'],
      ]);
      assert.deepEqual(await seqs('c'), [['sign', 'pending']], 'leased and never settled: kept');
      assert.deepEqual(await seqs('d'), [['sign', 'delivered']], 'delivered 29 days ago: kept');
      assert.deepEqual(await seqs('e'), []);
      assert.equal(await pruning.run(), 0, 'nothing more to prune');

      // a-3 is leasable (its earlier events were delivered, then pruned), c-1 once its lease ran out;
      // b-2 still waits behind its dead letter; a new event of e gets a seq past every one handed out.
      await append(f, ['e'], now);
      const after = await f.outbox.lease(now, 60_000, 100);
      assert.deepEqual(
        after.map((e) => [e.ticket.id, e.seq]),
        [
          ['a', seqOf('a', 2)],
          ['c', seqOf('c', 0)],
          ['e', (after.at(-1) as { seq: number }).seq],
        ],
      );
      assert.ok((after.at(-1) as { seq: number }).seq > highest, 'a pruned seq is never handed out again');
      assert.deepEqual(
        (await f.outbox.deadLetters(10)).map((d) => d.seq),
        [seqOf('b', 0)],
        'the dead letter stays for the operator',
      );
      assert.equal(await f.outbox.retry(seqOf('b', 0)), true);
    });

    test('two instances polling: the pruning fires once per interval', async (t) => {
      const url = await storage();
      // PostgreSQL: two pools racing for the claim; SQLite (one process holds the file): two pollers on its one connection.
      const a = await instance(t, url);
      const b = name === 'SQLite' ? a : await instance(t, url);
      let now = T0;
      const clock = { now: () => now };
      const log = pino({ level: 'silent' });
      const prunings = [a, b].map(
        (i, n) => new OutboxPruning({ db: i.db, outbox: i.outbox, policy: POLICY, clock, instanceId: `i${n}`, log }),
      );
      const old = async (ids: string[]) => {
        await append(a, ids, now);
        const events = await a.outbox.lease(now, 60_000, 100);
        await a.outbox.settle(
          events.map((e) => ({ seq: e.seq, outcome: 'delivered' as const })),
          now - 31 * DAY,
        );
      };
      await old(['x', 'y', 'z']);
      await Promise.all(prunings.map((p) => p.arm()));
      const first = await Promise.all(prunings.map((p) => p.runDue()));
      assert.deepEqual(
        first.filter((r) => r !== null),
        [3],
        `one instance pruned: ${JSON.stringify(first)}`,
      );
      await old(['w']);
      assert.deepEqual(await Promise.all(prunings.map((p) => p.runDue())), [null, null], 'this interval has run');
      now += POLICY.intervalS * 1000;
      const next = await Promise.all(prunings.map((p) => p.runDue()));
      assert.deepEqual(
        next.filter((r) => r !== null),
        [1],
        `the next interval, once: ${JSON.stringify(next)}`,
      );
    });
  });
}

suite('SQLite', async () => '');
suite('PostgreSQL 15', postgresDatabases('flowsprune'));

test('flows.outbox.keepDays is validated and unknown flows keys are refused', () => {
  const load = (flows: unknown) => loadConfig(FleetConfig, { prefix: 'SHOUWANG_FLEET', env: {}, overrides: { flows } });
  assert.equal(load({}).flows.outbox.keepDays, 30);
  assert.equal(load({ outbox: { keepDays: 7 } }).flows.outbox.keepDays, 7);
  assert.throws(
    () => load({ outbox: { keepDays: 0 } }),
    (err: ConfigError) => err.problems.some((p) => p.startsWith('/flows/outbox/keepDays')),
  );
  assert.throws(
    () => load({ outbox: { keepDay: 7 } }),
    (err: ConfigError) => err.problems.some((p) => p.includes('/flows/outbox')),
  );
  assert.throws(() => load({ lease: { recheck: 1 } }), ConfigError);
});
