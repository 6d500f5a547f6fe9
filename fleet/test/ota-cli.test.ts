/**
 * `shouwang release …` and `shouwang campaign …` against a real fleet, with units answering through
 * the protocol: tables a maintainer reads, exit codes a script can stop on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../src/cli/run.ts';
import { apiClient, startBroker, startTestFleet, waitFor } from './helpers.ts';
import { type Behaviour, protocolUnit, release, signer, trustedKeysFile } from './ota-helpers.ts';

const ADMIN = 'ota-cli-admin-token';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env: { SHOUWANG_TZ: 'UTC' } });
  return { code, out, err };
}

const rollsBack: Behaviour = () => ({ answer: 'queued', reports: [{ step: 'restarting' }, { step: 'rolled-back', reason: 'crash-loop' }] });

test('releases and campaigns from the command line: create, start, status with waves and units, refusals and exit codes', async (t) => {
  const broker = await startBroker(t);
  const key = signer('k1');
  const fleet = await startTestFleet(t, broker.url, {
    auth: { bootstrapAdminToken: ADMIN },
    ota: { trustedKeysFile: await trustedKeysFile(t, [key]), answerS: 2 },
  });
  const api = apiClient(fleet.base);
  assert.equal((await api('POST', '/api/ota/releases', ADMIN, release(key, '2.0.1', ['2.0.0']).publish)).status, 201);
  for (const id of ['hrb-k01', 'hrb-k02', 'hrb-k03'])
    assert.equal((await api('POST', '/api/registry/units', ADMIN, { id, board: 'pi4', tags: ['ridge'] })).status, 201);
  // A Zero 2 W on the ridge: the release is for the Pi 4 only, so it is left out of the campaign.
  assert.equal((await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-k04', board: 'zero2w', tags: ['ridge'] })).status, 201);
  await protocolUnit(t, broker.url, 'hrb-k01', Date.now, rollsBack);
  await waitFor(() => fleet.state.get('hrb-k01')?.liveness.status === 'online');
  const commander = ((await api('POST', '/api/tokens', ADMIN, { role: 'commander', name: 'cmd' })).body as { token: string }).token;
  const as = ['--api', fleet.base, '--token', ADMIN];

  const releases = await cli(['release', 'list', ...as]);
  assert.equal(releases.code, 0, releases.err);
  assert.match(
    releases.out,
    /^VERSION\s+BOARDS\s+FULL\s+DELTAS FROM\s+KEY\s+PUBLISHED\n2\.0\.1\s+pi4\s+4096 B\s+2\.0\.0 \(512 B\)\s+k1\s+\d{4}-/,
  );

  const refused = await cli([
    'campaign',
    'create',
    '--name',
    'x',
    '--version',
    '2.0.1',
    '--tags',
    'ridge',
    '--api',
    fleet.base,
    '--token',
    commander,
  ]);
  assert.equal(refused.code, 4);
  assert.match(refused.err, /403 FORBIDDEN: role commander may not manage-updates \(a maintainer or admin token may\)/);
  const bad = await cli(['campaign', 'create', '--name', 'x', '--version', '2.0.1', '--tags', 'ridge', '--waves', '50,40', ...as]);
  assert.equal(bad.code, 2, 'a plan the fleet refuses is a usage error');
  assert.match(bad.err, /each wave reaches further than the one before at \/waves\/1/);

  const created = await cli([
    'campaign',
    'create',
    '--name',
    'ridge patch',
    '--version',
    '2.0.1',
    '--tags',
    'ridge',
    '--canary-units',
    'hrb-k01',
    '--waves',
    '100',
    '--window',
    '01:00-05:00',
    ...as,
  ]);
  assert.equal(created.code, 0, created.err);
  const id = /campaign (\S+) created \(draft\): 1 \+ 2 units in 2 waves/.exec(created.out)?.[1] ?? '';
  assert.ok(id, created.out);
  const started = await cli(['campaign', 'start', id, ...as]);
  assert.equal(started.code, 0, started.err);
  assert.match(
    started.out,
    new RegExp(`campaign ${id}: (running|paused): the canary group has the job`),
    'started (the canary may have answered already)',
  );
  await waitFor(async () => (await cli(['campaign', 'status', id, ...as])).out.includes('state     paused'), 10_000);

  const status = await cli(['campaign', 'status', id, ...as]);
  assert.equal(status.code, 1, 'a campaign that paused on a rollback exits 1');
  assert.match(status.out, /state {5}paused: 1 of 1 units failed or rolled back/);
  assert.match(status.out, /^WAVE\s+UNITS\s+RELEASED\s+COUNTS\ncanary\s+1\s+yes\s+1 rolled-back\n1\s+2\s+no\s+2 pending$/m);
  assert.match(status.out, /^hrb-k01\s+canary\s+rolled-back\s+rolled-back\s+-\s+-\s+crash-loop$/m);
  assert.match(status.out, /^next wave wave 1 held while paused \(waves at least 60 min apart\)$/m);
  const list = await cli(['campaign', 'list', ...as]);
  assert.match(list.out, new RegExp(`^${id}\\s+ridge patch\\s+2\\.0\\.1\\s+paused\\s+2 pending, 1 rolled-back`, 'm'));
  assert.equal((await cli(['campaign', 'pause', id, ...as])).code, 4, 'a conflict is a refusal');
  assert.equal((await cli(['campaign', 'frobnicate', id, ...as])).code, 2);
  const aborted = await cli(['campaign', 'abort', id, '--reason', 'crash loop on the canary', ...as]);
  assert.equal(aborted.code, 0, aborted.err);
  assert.match(
    aborted.out,
    new RegExp(`^campaign ${id}: aborted: units that have not started drop the job; one already switching finishes; `),
  );
  const history = await cli(['campaign', 'history', id, ...as]);
  assert.equal(history.code, 0, history.err);
  assert.match(
    history.out,
    /^AT\s+WHO\s+ROLE\s+ACTION\s+RESULT\s+REASON\n\S+ \d\d:\d\d GMT\S*\s+bootstrap admin\s+admin\s+abort-campaign\s+ok\s+crash loop on the canary\n.*pause-campaign\s+CONFLICT\s+a paused campaign cannot pause\n/m,
  );
  assert.match(history.out, /create-campaign\s+ok\s*$/);
});
