/**
 * Two fleet instances on one PostgreSQL, both subscribed to every unit's alarms through their own
 * persistent sessions: each alarm is taken once, each episode has one ticket, each deadline timer
 * fires once however many instances poll.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { sql } from 'kysely';
import { intrusion } from './alarm-helpers.ts';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ALARMS = 1000;

test('two instances on one PostgreSQL: 1,000 alarms → 1,000 tickets, no duplicates, every escalation fired once', async (t) => {
  const broker = await startBroker(t);
  let a: Awaited<ReturnType<typeof startTestFleet>> | undefined;
  let b: typeof a;
  // The fleets close before their database stops (after-hooks run in the order they were added).
  const teardown: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    for (const fn of teardown) await fn();
  });
  const { url: storageUrl } = await startPostgres((fn) => teardown.unshift(fn));
  const clock = {
    at: Date.parse('2026-09-24T15:00+08:00'),
    now() {
      return this.at;
    },
  };
  a = await startTestFleet(t, broker.url, { storageUrl, instanceId: 'a', clock });
  b = await startTestFleet(t, broker.url, { storageUrl, instanceId: 'b', clock });
  // One connection publishes for many units (the test broker has no ACL); QoS 1, in flight together.
  const publisher = await unitClient(t, broker.url, 'storm');
  await Promise.all(
    Array.from({ length: ALARMS }, (_, i) =>
      send(publisher, `hrb-${String(i).padStart(4, '0')}`, 'alarm', { ...intrusion(1, 'motion-1'), ts: clock.at }),
    ),
  );
  const db = a.loop.ticketStore.db;
  const count = async (q: string) => Number((await sql<{ n: number }>`${sql.raw(q)}`.execute(db)).rows[0]?.n);
  await waitFor(
    async () =>
      a.loop.alarms.counts.taken + b.loop.alarms.counts.taken === ALARMS && (await count('select count(*) as n from tickets')) === ALARMS,
    120_000,
  );
  await waitFor(() => a.loop.alarms.counts.duplicates + b.loop.alarms.counts.duplicates === ALARMS, 60_000);
  assert.equal(await count("select count(distinct unit_id) as n from tickets where alarm_kind = 'motion'"), ALARMS);
  assert.equal(await count('select count(*) as n from alarm_inbox'), ALARMS);
  // Each instance saw every alarm and took those the other had not (in batches: which one takes
  // how many depends on who locks the storm's units first).
  for (const f of [a, b]) assert.equal(f.loop.alarms.counts.taken + f.loop.alarms.counts.duplicates, ALARMS);

  clock.at = Date.parse('2026-09-30T09:00+08:00'); // past every deadline and escalation
  // Both instances' own beats may run meanwhile too: a third and fourth poller on the same timers.
  await Promise.all([a.loop.tickets.runDue(5000), b.loop.tickets.runDue(5000), a.loop.tickets.runDue(5000), b.loop.tickets.runDue(5000)]);
  // The jump in time also makes the silent units late and missing: the fleet's own alarms open
  // maintenance tickets of their own. The intrusions' tickets are the ones counted here.
  const MOTION = "ticket_id in (select id from tickets where alarm_kind = 'motion')";
  assert.equal(await count(`select count(*) as n from ticket_timers where fired_at is null and ${MOTION}`), 0);
  for (const action of ['warn', 'overdue', 'escalate'])
    assert.equal(
      await count(`select count(*) as n from ticket_events where action = '${action}' and ${MOTION}`),
      ALARMS,
      `${action} once per ticket`,
    );
  assert.equal(
    await count(
      "select count(*) as n from (select ticket_id, action from ticket_events where action in ('warn', 'overdue', 'escalate') group by ticket_id, action having count(*) > 1) d",
    ),
    0,
  );
  const by = await sql<{
    fired_by: string;
  }>`select distinct fired_by from ticket_timers where fired_by is not null order by fired_by`.execute(db);
  assert.deepEqual(
    by.rows.map((r) => r.fired_by),
    ['a', 'b'],
    'both instances fired a share',
  );
  assert.equal(await count("select count(*) as n from tickets where escalated = 1 and alarm_kind = 'motion'"), ALARMS);
});
