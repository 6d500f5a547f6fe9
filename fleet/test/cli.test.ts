import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { encodeResponse, type Power } from '@shouwang/protocol';
import { runCli } from '../src/cli/run.ts';
import { intrusion } from './alarm-helpers.ts';
import { responder, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-cli-tests';

const T0 = 1_763_856_000_000;
const power: Power = { seq: 1, ts: T0, soc: 77, batteryV: 13.1, solarW: 10, windW: 2, loadW: 6, state: 'full' };

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env: {}, now: () => T0 + 12_000 });
  return { code, out, err };
}

/** A fleet with one unit that reports power, location and link and answers `ping` and `commission` (its camera is dead). */
async function system(t: TestContext) {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  await responder(t, broker.url, 'hrb-001', (command, id) => [
    command === 'ping'
      ? encodeResponse('ping', { id, status: 'ok', data: { uptimeS: 3600, ts: T0 } })
      : encodeResponse('commission', {
          id,
          status: 'ok',
          data: {
            ts: T0,
            items: [
              { check: 'gps', pass: true, detail: '3d fix, 9 satellites, HDOP 0.9', value: 9 },
              {
                check: 'charge',
                pass: false,
                pending: true,
                detail: 'solar 0 W, wind 0 W: sun 58° below the horizon and the turbine still',
              },
              { check: 'camera', pass: false, detail: 'camera failed: no answer within 20 s' },
            ],
          },
        }),
  ]);
  const unit = await unitClient(t, broker.url, 'hrb-001-status');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: T0 });
  await send(unit, 'hrb-001', 'power', power);
  await send(unit, 'hrb-001', 'link', { seq: 2, ts: T0, type: 'nr', rssiDbm: -71, bars: 4, bytesMonth: 1_200_000 });
  await waitFor(() => fleet.state.get('hrb-001')?.link != null);
  return { api: ['--api', fleet.base, '--token', ADMIN], base: fleet.base, fleet: { state: fleet.state, mqttUrl: broker.url } };
}

test('units and unit read the fleet API and print what a technician needs', async (t) => {
  const { api } = await system(t);
  const list = await cli(['units', ...api]);
  assert.equal(list.code, 0, list.err);
  const [header, row] = list.out.trim().split('\n');
  assert.match(header ?? '', /^ID\s+STATUS\s+SOC\s+TO EMPTY\s+POWER\s+LINK\s+LAST SEEN$/);
  assert.match(row ?? '', /^hrb-001\s+online\s+77%\s+\S+\s+full\s+5G 4\/5\s+\d+ (s|min|h|d) ago$/);

  const one = await cli(['unit', 'hrb-001', '--json', ...api]);
  assert.equal(one.code, 0, one.err);
  assert.equal((JSON.parse(one.out) as { power: Power }).power.soc, 77);
  const detail = await cli(['unit', 'hrb-001', ...api]);
  assert.match(detail.out, /battery\s+77%\s+13\.10 V/);
  assert.match(detail.out, /link\s+5G\s+4\/5 bars\s+-71 dBm/);
  assert.match(detail.out, /commissioned\s+not yet/);
  // 1.2 MB by 23 November: 1.6 MB by the month's end, inside the 30 MB cellular default.
  assert.match(detail.out, /data\s+1\.2 MB of 30\.0 MB this month, 1\.6 MB by month end\n/);

  const missing = await cli(['unit', 'hrb-404', ...api]);
  assert.equal(missing.code, 4, 'not found is a refusal, not an unreachable fleet');
  assert.match(missing.err, /404/);
});

test('at-risk prints a table (JSON with --json); times are in the fleet’s zone; a planned sleep says until when', async (t) => {
  const { api, fleet } = await system(t);
  // A unit draining fast, asleep until 08:40 UTC (16:40 in Harbin) of a day the fleet has not reached.
  const unit = await unitClient(t, fleet.mqttUrl, 'hrb-002');
  const wake = Date.UTC(2040, 10, 23, 8, 40);
  await send(unit, 'hrb-002', 'power', { ...power, ts: Date.now(), soc: 9, state: 'scheduled-modem', timeToEmptyH: 3.5 });
  await send(unit, 'hrb-002', 'presence', { state: 'offline', ts: T0, nextContactBy: wake });
  await waitFor(() => fleet.state.get('hrb-002')?.presence?.nextContactBy === wake);

  const risk = await cli(['at-risk', ...api]);
  assert.equal(risk.code, 0, risk.err);
  const [header, row] = risk.out.trim().split('\n');
  assert.match(header ?? '', /^ID\s+RISK\s+DARK IN\s+SOC\s+TREND$/);
  assert.match(row ?? '', /^hrb-002\s+battery runs out\s+3\.5 h\s+9%\s+-$/);
  const json = await cli(['at-risk', '--json', ...api]);
  assert.equal((JSON.parse(json.out) as { units: { id: string }[] }).units[0]?.id, 'hrb-002');

  const list = await cli(['units', ...api]);
  assert.match(list.out, /\nhrb-002\s+asleep until 2040-11-23 16:40 GMT\+8\s+9%/);
  const utc = await cli(['units', '--tz', 'UTC', ...api]);
  assert.match(utc.out, /asleep until 2040-11-23 08:40 GMT(\+0)?\s/);
  const badZone = await cli(['units', '--tz', 'Mars/Olympus', ...api]);
  assert.equal(badZone.code, 2);
  assert.match(badZone.err, /unknown time zone "Mars\/Olympus"/);
});

test('command and commission go through the fleet API with a token; a failed check exits 1', async (t) => {
  const { api } = await system(t);
  const ping = await cli(['command', 'hrb-001', 'ping', ...api]);
  assert.equal(ping.code, 0, ping.err);
  assert.deepEqual(JSON.parse(ping.out), { uptimeS: 3600, ts: T0 });

  const run = await cli(['commission', 'hrb-001', ...api]);
  assert.equal(run.code, 1, run.err);
  const lines = run.out.trim().split('\n');
  assert.match(lines[0] ?? '', /^CHECK\s+RESULT\s+DETAIL$/);
  assert.match(lines[1] ?? '', /^gps\s+pass\s+3d fix, 9 satellites/);
  assert.match(lines[2] ?? '', /^charge\s+later\s+solar 0 W/, 'not judged in the dark: not a failure');
  assert.match(lines[3] ?? '', /^camera\s+FAIL\s+camera failed/);
  assert.match(run.out, /1 of 3 checks failed; to judge again in daylight: charge \(hrb-001, run /);

  const noToken = await cli(['command', 'hrb-001', 'ping', '--api', api[1] as string]);
  assert.equal(noToken.code, 4);
  assert.match(noToken.err, /401 UNAUTHENTICATED.*--token/);
});

test('a maintainer registers, a technician claims on site with the code', async (t) => {
  const { api } = await system(t);
  const reg = await cli(['register', 'hrb-200', '--board', 'cm4', '--tags', 'bridge,north', ...api]);
  assert.equal(reg.code, 0, reg.err);
  const code = /\n {4}([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/.exec(reg.out)?.[1];
  assert.ok(code, reg.out);
  const claimed = await cli(['claim', code, '--site-lat', '45.7792', '--site-lon', '126.6183', '--grid-cell', 'DL-0417', ...api]);
  assert.equal(claimed.code, 0, claimed.err);
  assert.match(claimed.out, /username {2}hrb-200\n {4}password {2}\S{20,}/);
  const again = await cli(['claim', code, ...api]);
  assert.equal(again.code, 4);
  assert.match(again.err, /403 CLAIM_REJECTED/);
  const half = await cli(['claim', code, '--site-lat', '45.7', ...api]);
  assert.equal(half.code, 2);
});

test('a claim code is read as a person reads the label; a refused role is told which roles may; the fleet’s 400 is a usage error', async (t) => {
  const { api, base } = await system(t);
  const reg = await cli(['register', 'hrb-201', ...api]);
  const code = /\n {4}([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/.exec(reg.out)?.[1];
  assert.ok(code, reg.out);
  const issued = await fetch(`${base}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'commander', name: 'duty officer' }),
  });
  const commander = ((await issued.json()) as { token: string }).token;
  const typed = code.toLowerCase().replaceAll('-', ' ').split(' ');
  const denied = await cli(['claim', ...typed, '--api', base, '--token', commander]);
  assert.equal(denied.code, 4);
  assert.match(denied.err, /403 FORBIDDEN: role commander may not claim \(a technician, maintainer or admin token may\)/);
  const claimed = await cli(['claim', ...typed, ...api]);
  assert.equal(claimed.code, 0, claimed.err);
  assert.match(claimed.out, /^hrb-201 claimed/);
  const short = await cli(['claim', 'ABCD-EFGH', ...api]);
  assert.equal(short.code, 2);
  assert.match(short.err, /a claim code is 12 letters and digits/);

  const invalid = await cli(['register', 'Not A Valid Id!', ...api]);
  assert.equal(invalid.code, 2, invalid.err);
  assert.match(invalid.err, /^400 INVALID: not a valid unit id/);
});

test('a dispatcher at a terminal: alarms, ack, the queue by deadline, a ticket and its timeline, moves by role', async (t) => {
  const { base, fleet } = await system(t);
  const issue = async (role: string) => {
    const r = await fetch(`${base}/api/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role, name: role }),
    });
    return ['--api', base, '--token', ((await r.json()) as { token: string }).token];
  };
  const dispatcher = await issue('dispatcher');
  const operator = await issue('department-operator');
  const unit = await unitClient(t, fleet.mqttUrl, 'hrb-001-alarm');
  // Raised at T0, long before it arrives: back-filled, so the console flags it late.
  await send(unit, 'hrb-001', 'alarm', intrusion(10, 'motion-1', { ts: T0 }));
  let id = '';
  await waitFor(async () => {
    const r = await cli(['tickets', '--json', ...dispatcher]);
    id = (JSON.parse(r.out) as { tickets: { id: string }[] }).tickets[0]?.id ?? '';
    return id !== '';
  });

  const alarms = await cli(['alarms', ...dispatcher]);
  assert.equal(alarms.code, 0, alarms.err);
  const [head, row] = alarms.out.trim().split('\n');
  assert.match(head ?? '', /^EPISODE\s+SEVERITY\s+PRIORITY\s+STATE\s+RAISED\s+FLAGS\s+TICKET$/);
  assert.match(
    row ?? '',
    new RegExp(`^hrb-001~motion~motion-1\\s+major\\s+\\S+\\s+active\\s+12 s ago\\s+late\\s+${id.slice(0, 8)}$`),
    'the ticket as the queue shows it',
  );
  assert.equal((await cli(['ack', 'hrb-001~motion~motion-1', ...dispatcher])).code, 0);
  const again = await cli(['ack', 'hrb-001~motion~motion-1', ...dispatcher]);
  assert.equal(again.code, 4);
  assert.match(again.err, /^409 CONFLICT: /);

  const queue = await cli(['tickets', ...dispatcher]);
  assert.equal(queue.code, 0, queue.err);
  assert.match(queue.out, /^TICKET\s+STATE\s+LIGHT\s+DUE\s+UNIT\s+KIND\s+DISTRICT\s+DEPARTMENT\n/);
  assert.match(
    queue.out,
    new RegExp(
      `\\n${id.slice(0, 8)}\\s+dispatched\\s+GREEN\\s+in [\\d.]+ (h|d)\\s+hrb-001\\s+motion\\s+daoli\\s+Daoli 道里 public security sub-bureau`,
    ),
  );

  // What the table shows is what one types.
  const shown = /\n(\S+)\s+dispatched/.exec(queue.out)?.[1] ?? '';
  const denied = await cli(['sign', shown, ...dispatcher]);
  assert.equal(denied.code, 4);
  assert.match(denied.err, /^403 FORBIDDEN: role dispatcher may not handle \(a .*department-operator.* token may\)/);
  const noReason = await cli(['return', id, ...operator]);
  assert.equal(noReason.code, 2, 'a return needs a reason: what was typed is short');
  assert.match(noReason.err, /^400 REASON_REQUIRED: /);
  const returned = await cli(['return', id, '--reason', 'not ours: private site', ...operator]);
  assert.deepEqual([returned.code, returned.out], [0, `${id} return: now returned, Daoli 道里 public security sub-bureau\n`]);
  const redispatched = await cli(['dispatch', id, '--department', 'Daoli 道里 urban management bureau', ...dispatcher]);
  assert.equal(redispatched.code, 0, redispatched.err);
  assert.match(redispatched.out, /now dispatched, Daoli 道里 urban management bureau/);

  const one = await cli(['ticket', id, ...dispatcher]);
  assert.equal(one.code, 0, one.err);
  assert.match(one.out, /^ticket\s+\S+\nstate\s+dispatched {2}GREEN\n/);
  assert.match(one.out, /department\s+Daoli 道里 urban management bureau/);
  // The grid file's names, each with the id the filters take.
  assert.match(one.out, /\nwhere\s+cell Grid \d+-\d+ \(daoli-g\d+-\d+\), district Daoli 道里 \(daoli\)\n/);
  assert.match(one.out, /\s+return\s+dispatched → returned\s+department-operator:\S+\s+not ours: private site\n/);
  assert.match(one.out, /\s+dispatch\s+returned → dispatched\s+dispatcher:/);
  assert.equal((await cli(['ticket', 'no-such-ticket', ...dispatcher])).code, 4);
});

test('a ticket is named by any unique start of its id, as git takes a commit; an ambiguous or unknown start is refused', async (t) => {
  const { base, fleet, api } = await system(t);
  const unit = await unitClient(t, fleet.mqttUrl, 'hrb-001-alarm');
  // 17 tickets (one per unit: a unit's second intrusion joins its first's episode): at least two
  // ids share their first hex digit, so a one-character start is ambiguous.
  for (let i = 101; i <= 117; i++) await send(unit, `hrb-${i}`, 'alarm', intrusion(1, 'motion-1', { ts: T0 }));
  let ids: string[] = [];
  await waitFor(async () => {
    ids = (JSON.parse((await cli(['tickets', '--json', ...api])).out) as { tickets: { id: string }[] }).tickets.map((x) => x.id);
    return ids.length === 17;
  }, 20_000);
  const common = (a: string, b: string) => [...a].findIndex((ch, i) => ch !== b[i]);
  const [a, b] = ids.flatMap((x) => ids.filter((y) => y !== x && y[0] === x[0]).map((y) => [x, y] as const))[0] ?? assert.fail();
  const shared = a.slice(0, common(a, b));
  const ambiguous = await cli(['ticket', shared, ...api]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.err, new RegExp(`^ticket id prefix ${shared} is ambiguous; it starts:\n`));
  for (const id of ids.filter((x) => x.startsWith(shared))) assert.ok(ambiguous.err.includes(`\n  ${id}`), `${id} named`);
  assert.match(ambiguous.err, /type more of the id\n$/);

  // The shortest start that is a's alone, typed in capitals (a UUID's case does not matter).
  const unique = a.slice(0, 1 + Math.max(...ids.filter((x) => x !== a).map((x) => common(a, x))));
  const one = await cli(['ticket', unique.toUpperCase(), ...api]);
  assert.equal(one.code, 0, one.err);
  assert.match(one.out, new RegExp(`^ticket\\s+${a}\n`));
  const moved = await cli(['return', unique, '--reason', 'not ours: private site', ...api]);
  assert.equal(moved.code, 0, moved.err);
  assert.match(moved.out, new RegExp(`^${a} return: now returned`));

  const hex = '0123456789abcdef';
  const none = [...hex].map((d) => `${d}${d}${d}${d}${d}${d}`).find((p) => !ids.some((x) => x.startsWith(p))) ?? assert.fail();
  const unknown = await cli(['ticket', none, ...api]);
  assert.deepEqual([unknown.code, unknown.err], [4, `no ticket id starts with ${none}\n`]);
  // The fleet's filter alone: nothing but an id's characters reaches its query.
  assert.equal(
    (await fetch(`${base}/api/tickets?idPrefix=${encodeURIComponent('%')}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status,
    400,
  );
});

test('--help works on every command and exits 0', async () => {
  for (const verb of [
    'units',
    'unit',
    'at-risk',
    'register',
    'claim',
    'commission',
    'command',
    'alarms',
    'ack',
    'shelve',
    'tickets',
    'ticket',
    'dispatch',
    'escalate',
  ]) {
    const h = await cli([verb, '--help']);
    assert.equal(h.code, 0, `${verb}: ${h.err}`);
    assert.match(h.out, new RegExp(`^usage: shouwang ${verb}\\b`), verb);
    assert.match(h.out, /--token TOKEN/);
  }
  // A move's help names the roles that may make it and says when a reason is not optional.
  const ret = await cli(['return', '--help']);
  assert.match(ret.out, /^usage: shouwang return <ticket> --reason TEXT \(department-operator\) ticket move\n/);
  assert.match((await cli(['ack', '--help'])).out, /^usage: shouwang ack <episode>\s+\(commander, dispatcher, supervisor\) /);
  const all = await cli(['-h']);
  assert.equal(all.code, 0);
  assert.match(all.out, /usage: shouwang <command>/);
});

test('bad invocations are refused locally with a reason and exit code 2', async () => {
  const badArgs = await cli(['command', 'hrb-001', 'config-get', '--args', '{"keys":"all"}', '--api', 'http://127.0.0.1:1']);
  assert.equal(badArgs.code, 2);
  assert.match(badArgs.err, /--args \/keys: /);
  // The protocol's alphabet has no I, L, O or U: such a code is a misreading, refused before the fleet is asked.
  for (const misread of ['7KQ2-M9XD-4HTI', '7kq2 m9xd 4htl', '7KQ2-M9XD-4HTO', '7KQ2-M9XD-4HTU']) {
    const r = await cli(['claim', misread, '--api', 'http://127.0.0.1:1']);
    assert.equal(r.code, 2, `${misread}: ${r.err}`);
    assert.match(r.err, /no I, L, O or U/);
  }
  const unknown = await cli(['command', 'hrb-001', 'self-destruct']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command name/);
  assert.equal((await cli(['frobnicate'])).code, 2);
  assert.equal((await cli(['--nope'])).code, 2);
  const unreachable = await cli(['units', '--api', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.err, /cannot reach the fleet API at http:\/\/127\.0\.0\.1:1/);
});
