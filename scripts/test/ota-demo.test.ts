/**
 * The README's over-the-air walk-through on the demo system, as a maintainer types it: `./dev
 * start`'s unit runs from A/B slots seeded with the factory release; a release built from it,
 * signed with the demo key and published with `./dev release`, and a campaign made and started
 * with `./dev shouwang`, update the unit by delta; it reports the new version, and after the whole
 * system restarts it runs the new slot still. A release that crashes on start is rolled back by the
 * unit's own launcher while the demo runs on.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildRelease } from '../../device/release/release.ts';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import type { CampaignView, UnitView } from '../../fleet/src/ota/campaigns.ts';
import { type RunningSystem, startSystem } from '../system.ts';

const ADMIN = 'ota-demo-admin-token';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Unit {
  presence: { ts: number; agent: string } | null;
  running: { version: string } | null;
}

type Campaign = CampaignView & { units: UnitView[] };

/** A one-unit demo system (`startSystem`, as `./dev start` runs it) and a maintainer's terminal on it. */
async function demo(t: TestContext) {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-ota-demo-'));
  let sys: RunningSystem | undefined;
  const logs: string[] = [];
  t.after(async () => {
    await sys?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const start = async () => {
    sys = await startSystem({
      units: 1,
      mqttPort: 0,
      httpPort: 0,
      gatewayHttpPort: 0,
      dataDir,
      adminToken: ADMIN,
      env: { SHOUWANG_DEVICE_VIDEO_ENABLED: 'false' },
      onLog: (source, line) => logs.push(`${source} ${line}`),
      onPartExit: (name, code, signal) => logs.push(`${name} EXITED code ${code} signal ${signal}`),
    });
    return sys;
  };
  const first = await start();
  const unit = first.units[0] ?? assert.fail('no unit');
  const env = { ...process.env, SHOUWANG_TOKEN: ADMIN, SHOUWANG_API: `http://127.0.0.1:${first.httpPort}` };
  const run = async (tool: 'release' | 'shouwang', ...args: string[]) => {
    const entry = tool === 'release' ? 'device/release/cli.ts' : 'fleet/src/cli/main.ts';
    const { stdout } = await promisify(execFile)(process.execPath, [entry, ...args], { cwd: ROOT, env });
    return stdout;
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${sys?.httpPort}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };
  const until = async (what: string, ok: () => Promise<boolean>, ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await ok()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    console.log(logs.slice(-80).join('\n'));
    assert.fail(`${what} not within ${ms} ms`);
  };
  // 404 until the fleet has heard from the unit.
  const unitView = async (): Promise<Unit> => {
    const res = await fetch(`http://127.0.0.1:${sys?.httpPort}/api/units/${unit.id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return res.status === 404 ? { presence: null, running: null } : ((await res.json()) as Unit);
  };
  /** `./dev release sign` and `publish`, then `shouwang campaign create` and `start`: the campaign's id. */
  const roll = async (version: string) => {
    const dir = join(first.releasesDir, version);
    await run('release', 'sign', '--release', dir, '--key', first.releaseKeys.privateKey, '--id', first.releaseKeys.keyId);
    const published = await run('release', 'publish', '--release', dir, '--fleet', env.SHOUWANG_API);
    assert.match(
      published,
      new RegExp(`^published ${version.replaceAll('.', '\\.')} to http\\S+\\n  full  `),
      'what was published, not raw JSON',
    );
    const created = await run('shouwang', 'campaign', 'create', '--name', `to ${version}`, '--version', version, '--units', unit.id);
    const id = /campaign (\S+) created/.exec(created)?.[1] ?? assert.fail(created);
    await run('shouwang', 'campaign', 'start', id);
    return id;
  };
  const campaign = (id: string) => api<Campaign>(`/api/ota/campaigns/${id}`);
  await until('the unit online on 0.1.0', async () => (await unitView()).presence?.agent === '0.1.0', 30_000);
  return {
    first,
    unit,
    logs,
    run,
    until,
    unitView,
    roll,
    campaign,
    restart: async () => {
      await first.stop();
      sys = undefined;
      return start();
    },
  };
}

test('a release published with ./dev release and a campaign started from the CLI update a demo unit, which stays on the new slot across a restart', {
  timeout: 240_000,
}, async (t) => {
  const { first, unit, logs, run, until, unitView, roll, campaign, restart } = await demo(t);
  try {
    assert.equal(currentSlot(unit.slotsDir), 'a', 'installed in slot a');
    const releases = first.releasesDir;
    const built = await run('release', 'build', '--version', '0.2.0', '--out', releases, '--from', join(releases, '0.1.0'));
    assert.match(built, /delta from 0\.1\.0: \d+ B/);
    const id = await roll('0.2.0');

    await until(
      'the campaign completed',
      async () => {
        const c = await campaign(id);
        // A unit that refuses the job fails the canary and the campaign pauses by itself.
        assert.notEqual(c.state, 'paused', JSON.stringify(c.units));
        return c.state === 'completed';
      },
      90_000,
    );
    const done = await campaign(id);
    assert.deepEqual(
      done.units.map((u) => [u.unitId, u.state, u.download]),
      [[unit.id, 'updated', 'delta']],
      JSON.stringify(done.units),
    );
    assert.match(await run('shouwang', 'campaign', 'status', id), /completed/);
    assert.equal((await unitView()).running?.version, '0.2.0');
    assert.equal(currentSlot(unit.slotsDir), 'b');
    assert.ok(
      readFileSync(join(unit.slotsDir, 'b', 'agent.mjs')).equals(readFileSync(join(releases, '0.2.0', 'agent.mjs'))),
      'slot b holds the release byte for byte',
    );

    const restartedAt = Date.now();
    await restart();
    await until(
      'the restarted unit online on 0.2.0',
      async () => {
        const p = (await unitView()).presence;
        return p !== null && p.ts >= restartedAt && p.agent === '0.2.0';
      },
      30_000,
    );
    assert.equal(currentSlot(unit.slotsDir), 'b', 'the restart kept the committed slot');
  } catch (err) {
    console.log(logs.slice(-80).join('\n'));
    throw err;
  }
});

test('a demo unit given a release that crashes on start goes back to its slot by itself and is counted rolled back', {
  timeout: 240_000,
}, async (t) => {
  const { first, unit, logs, until, unitView, roll, campaign } = await demo(t);
  try {
    // What `./dev release build` makes, with a bundle that exits at once in place of the agent.
    await buildRelease({
      version: '0.2.1',
      out: first.releasesDir,
      from: [join(first.releasesDir, '0.1.0')],
      bundle: Buffer.from('process.exit(3);\n'),
    });
    const id = await roll('0.2.1');
    // One unit, in the canary group: its rollback ends the campaign (no wave is left to stop).
    await until(
      'the unit counted',
      async () => ['updated', 'failed', 'rolled-back'].includes((await campaign(id)).units[0]?.bucket ?? ''),
      90_000,
    );
    const c = await campaign(id);
    const [u] = c.units;
    assert.deepEqual([u?.state, c.counts['rolled-back']], ['rolled-back', 1], JSON.stringify(u));
    assert.match(u?.detail ?? '', /crash-loop/);
    assert.equal(currentSlot(unit.slotsDir), 'a', 'back on the factory slot');
    await until('the unit reporting 0.1.0 again', async () => (await unitView()).presence?.agent === '0.1.0', 30_000);
    assert.ok(!logs.some((l) => l.includes('EXITED')), 'the run went on: no part reported gone');
  } catch (err) {
    console.log(logs.slice(-80).join('\n'));
    throw err;
  }
});
