/**
 * The JSON state files' version stamp: written by every writer, ignored by the previous release's
 * readers (they read their fields), checked at load: a newer file is read as it stands and said
 * so, a file from before versioning reads as version 0, a stamp that is no version is refused.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { loadConfig } from '@shouwang/runtime';
import pino from 'pino';
import { DeviceConfig } from '../src/config.ts';
import { readJsonFile } from '../src/services/atomic-file.ts';
import { ConfigStore } from '../src/services/config-store.ts';
import { readBootState, writeBootState } from '../src/services/ota-slots.ts';
import { logStateFile, readStateFile, STAMP, writeStateFile } from '../src/services/state-file.ts';
import { STATE_VERSION } from '../src/services/state-migrations.ts';

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sw-state-file-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('a state file is written with the writer’s state version, and the previous release reads its fields as before', async (t) => {
  const file = join(await dir(t), 'state.json');
  writeStateFile(file, { powerState: 'camera-on-alarm', alarms: { tamper: { active: true } } });
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.equal(raw[STAMP], STATE_VERSION);
  // The previous release's reader: the whole object, picking the fields it knows.
  const old = readJsonFile<{ powerState?: string; alarms?: unknown }>(file, {});
  assert.deepEqual([old.powerState, old.alarms], ['camera-on-alarm', { tamper: { active: true } }]);
  assert.deepEqual(readStateFile(file, {}), {
    value: { powerState: 'camera-on-alarm', alarms: { tamper: { active: true } } },
    version: STATE_VERSION,
    newer: false,
  });
});

test('a file from before versioning reads as version 0 with its fields; a missing or torn one gives the fallback', async (t) => {
  const d = await dir(t);
  writeFileSync(join(d, 'old.json'), JSON.stringify({ powerState: 'full' }));
  assert.deepEqual(readStateFile(join(d, 'old.json'), {}), { value: { powerState: 'full' }, version: 0, newer: false });
  writeFileSync(join(d, 'torn.json'), '{"powerSt');
  assert.deepEqual(readStateFile(join(d, 'torn.json'), { powerState: 'full' }), {
    value: { powerState: 'full' },
    version: 0,
    newer: false,
  });
  assert.deepEqual(readStateFile(join(d, 'none.json'), {}).value, {});
});

test('a file from a newer release is read as it stands and reported; a stamp that is no state version is refused', async (t) => {
  const d = await dir(t);
  const lines: { msg: string; stateVersion?: number; problem?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  writeFileSync(join(d, 'newer.json'), JSON.stringify({ [STAMP]: STATE_VERSION + 1, powerState: 'full', addedLater: [1] }));
  const newer = readStateFile(join(d, 'newer.json'), {});
  assert.deepEqual(newer, { value: { powerState: 'full', addedLater: [1] }, version: STATE_VERSION + 1, newer: true });
  logStateFile(log, 'newer.json', newer);
  assert.deepEqual(
    lines.map((l) => [l.msg, l.stateVersion]),
    [['state written by a newer release: read as it stands', STATE_VERSION + 1]],
  );

  for (const bad of ['2', 0, 1.5, null]) {
    writeFileSync(join(d, 'bad.json'), JSON.stringify({ [STAMP]: bad, powerState: 'deep-sleep' }));
    const r = readStateFile(join(d, 'bad.json'), { powerState: 'full' });
    assert.deepEqual(r.value, { powerState: 'full' }, `stamp ${JSON.stringify(bad)}: the fallback`);
    assert.match(r.problem ?? '', /is not a state version/);
  }
  logStateFile(log, 'bad.json', readStateFile(join(d, 'bad.json'), {}));
  assert.equal(lines.at(-1)?.msg, 'state file refused: starting from defaults');
});

test('the slots’ boot state round-trips with its stamp; the launcher reads a trial written before versioning', async (t) => {
  const d = await dir(t);
  const trial = { slot: 'b', previous: 'a', boots: 1, maxBoots: 3, until: 1_000, campaign: 'c-1', version: '0.2.0' } as const;
  writeBootState(d, { format: 1, trial });
  assert.equal((JSON.parse(readFileSync(join(d, 'boot.json'), 'utf8')) as Record<string, unknown>)[STAMP], STATE_VERSION);
  assert.deepEqual(readBootState(d), { format: 1, trial });
  writeFileSync(join(d, 'boot.json'), JSON.stringify({ format: 1, trial }));
  assert.deepEqual(readBootState(d), { format: 1, trial });
});

test('config overrides carry the stamp; the stamp is no config key for this release or the previous one', async (t) => {
  const file = join(await dir(t), 'config-overrides.json');
  const cfg = loadConfig(DeviceConfig, { prefix: 'SHOUWANG_STATE_FILE_TEST', overrides: { unitId: 'hrb-104' } });
  const store = new ConfigStore(cfg, file, () => undefined);
  assert.equal(store.set({ 'site.lat': 45.8 }).ok, true);
  const raw = readJsonFile<Record<string, unknown>>(file, {});
  assert.deepEqual(raw, { [STAMP]: STATE_VERSION, 'site.lat': 45.8 });
  assert.deepEqual(ConfigStore.load(file), { site: { lat: 45.8 } });
  // What the previous release loads from the same file: the keys it has config for.
  const again = loadConfig(DeviceConfig, {
    prefix: 'SHOUWANG_STATE_FILE_TEST',
    overrides: { ...ConfigStore.load(file), unitId: 'hrb-104' },
  });
  assert.equal(again.site.lat, 45.8);
});
