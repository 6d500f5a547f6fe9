/**
 * The README's over-the-air walk-through on the demo system, as a maintainer types it: `./dev
 * start`'s unit runs from A/B slots seeded with the factory release; a release built from it,
 * signed with the demo key and published with `./dev release`, and a campaign made and started
 * with `./dev shouwang`, update the unit by delta; it reports the new version, and after the whole
 * system restarts it runs the new slot still.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { currentSlot } from '../../device/src/services/ota-slots.ts';
import type { CampaignView, UnitView } from '../../fleet/src/ota/campaigns.ts';
import { type RunningSystem, startSystem } from '../system.ts';

const ADMIN = 'ota-demo-admin-token';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Unit {
  presence: { ts: number; agent: string } | null;
  running: { version: string } | null;
}

test('a release published with ./dev release and a campaign started from the CLI update a demo unit, which stays on the new slot across a restart', {
  timeout: 240_000,
}, async (t) => {
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
    });
    return sys;
  };
  const first = await start();
  const unit = first.units[0];
  assert.ok(unit);
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

  try {
    assert.equal(currentSlot(unit.slotsDir), 'a', 'installed in slot a');
    await until('the unit online on 0.1.0', async () => (await unitView()).presence?.agent === '0.1.0', 30_000);

    const releases = first.releasesDir;
    const keys = first.releaseKeys;
    const built = await run('release', 'build', '--version', '0.2.0', '--out', releases, '--from', join(releases, '0.1.0'));
    assert.match(built, /delta from 0\.1\.0: \d+ B/);
    await run('release', 'sign', '--release', join(releases, '0.2.0'), '--key', keys.privateKey, '--id', keys.keyId);
    await run('release', 'publish', '--release', join(releases, '0.2.0'), '--fleet', env.SHOUWANG_API);
    const created = await run('shouwang', 'campaign', 'create', '--name', 'patch 0.2.0', '--version', '0.2.0', '--units', unit.id);
    const id = /campaign (\S+) created/.exec(created)?.[1] ?? assert.fail(created);
    await run('shouwang', 'campaign', 'start', id);

    type Campaign = CampaignView & { units: UnitView[] };
    await until(
      'the campaign completed',
      async () => {
        const c = await api<Campaign>(`/api/ota/campaigns/${id}`);
        // A unit that refuses the job fails the canary and the campaign pauses by itself.
        assert.notEqual(c.state, 'paused', JSON.stringify(c.units));
        return c.state === 'completed';
      },
      90_000,
    );
    const done = await api<Campaign>(`/api/ota/campaigns/${id}`);
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

    await first.stop();
    sys = undefined;
    const restartedAt = Date.now();
    await start();
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
