/**
 * Two fleet instances on one PostgreSQL, both subscribed to every unit's alarms through their own
 * persistent sessions on the real gateway process (each unit with its own credentials, ACLs and
 * validation at the edge): each alarm is taken once, each episode has one ticket, each deadline
 * timer fires once however many instances poll.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { sql } from 'kysely';
import mqtt from 'mqtt';
import { intrusion } from './alarm-helpers.ts';
import { addUnitCredentials, startGateway } from './gateway-helper.ts';
import { send, startTestFleet, tempDir, waitFor } from './helpers.ts';

const ALARMS = 1000;
const SECRET = 'storm-unit-secret';
/** Units connecting at once: the gateway checks each login with scrypt. */
const WAVE = 100;

test('two instances on one PostgreSQL: 1,000 alarms → 1,000 tickets, no duplicates, every escalation fired once', async (t) => {
  const dir = await tempDir(t);
  const gw = await startGateway(t, dir);
  const units = Array.from({ length: ALARMS }, (_, i) => `hrb-${String(i).padStart(4, '0')}`);
  await addUnitCredentials(gw, units, SECRET);
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
  const mqttOptions = { username: 'fleet', password: gw.fleetPassword };
  a = await startTestFleet(t, gw.mqttUrl, { storageUrl, instanceId: 'a', clock, mqtt: mqttOptions });
  b = await startTestFleet(t, gw.mqttUrl, { storageUrl, instanceId: 'b', clock, mqtt: mqttOptions });
  // Each unit on its own connection with its own credentials (the gateway's ACL lets a unit publish
  // only as itself); the gateway may still be reloading the credentials file for the first ones.
  const connectUnit = (id: string) => mqtt.connectAsync(gw.mqttUrl, { clientId: id, username: id, password: SECRET, reconnectPeriod: 0 });
  await waitFor(async () => {
    const c = await connectUnit(units[0] as string).catch(() => undefined);
    await c?.endAsync();
    return c !== undefined;
  }, 10_000);
  for (let i = 0; i < ALARMS; i += WAVE)
    await Promise.all(
      units.slice(i, i + WAVE).map(async (id) => {
        const c = await connectUnit(id);
        await send(c, id, 'alarm', { ...intrusion(1, 'motion-1'), ts: clock.at });
        await c.endAsync();
      }),
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
