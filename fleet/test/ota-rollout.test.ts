/** The rollout's pure decisions: targets, waves, buckets, pause, advance, deadline. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignWaves, checkWavePlan, selectTargets, type TargetCandidate } from '../src/domain/rollout-plan.ts';
import { atDeadline, bucketOf, mayAdvance, type RolloutUnit, shouldPause } from '../src/domain/rollout-status.ts';

const units: TargetCandidate[] = Array.from({ length: 20 }, (_, i) => ({
  id: `u${String(i).padStart(2, '0')}`,
  board: i % 2 ? 'pi4' : 'cm4',
  tags: i < 10 ? ['north'] : ['south', 'hill'],
  site: i % 5 === 0 ? 'depot' : null,
  cell: `C${i % 4}`,
}));

test('targets: every selector must match (tags: any); the order is stable per campaign, named canaries first', () => {
  const t = selectTargets('c1', units, { tags: ['hill', 'north'], boards: ['pi4'], cells: ['C1', 'C3'] });
  assert.deepEqual([...t].sort(), ['u01', 'u03', 'u05', 'u07', 'u09', 'u11', 'u13', 'u15', 'u17', 'u19']);
  assert.deepEqual(
    selectTargets('c1', units, { tags: ['hill'], boards: ['pi4'], cells: ['C1', 'C3'] }),
    selectTargets('c1', units, { tags: ['hill'], boards: ['pi4'], cells: ['C1', 'C3'] }),
  );
  assert.notDeepEqual(selectTargets('c1', units, {}), selectTargets('c2', units, {}), 'another campaign, another spread');
  assert.deepEqual(
    selectTargets('c1', units, { sites: ['depot'] }, ['u10', 'u99']).slice(0, 1),
    ['u10'],
    'a named canary outside the target is ignored',
  );
  assert.deepEqual(selectTargets('c1', units, { sites: ['nowhere'] }), []);
});

test('waves: the canary group, then cumulative shares rounded up; a plan that does not reach 100 % is refused', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `u${i}`);
  assert.deepEqual(
    assignWaves(ids, { canary: 2, waves: [25, 50, 100] }).map((w) => w.length),
    [2, 1, 2, 5],
  );
  assert.deepEqual(
    assignWaves(ids, { canary: 4, waves: [25, 100] }).map((w) => w.length),
    [4, 6],
    'a wave the canary already covers is skipped',
  );
  assert.deepEqual(
    assignWaves(ids.slice(0, 1), { canary: 3, waves: [100] }).map((w) => w.length),
    [1],
  );
  assert.deepEqual(
    checkWavePlan({ canary: 0, waves: [50, 40] }).map((p) => p.path),
    ['/canary', '/waves/1', '/waves'],
  );
});

test('waiting is not failing: queued, deferred or asleep mid-download are waiting; switching is in progress', () => {
  assert.equal(bucketOf('deferred', 'online'), 'waiting');
  assert.equal(bucketOf('queued', 'asleep'), 'waiting');
  assert.equal(bucketOf('queued', 'online'), 'in-progress');
  assert.equal(bucketOf('downloading', 'asleep'), 'waiting');
  assert.equal(bucketOf('downloading', 'online'), 'in-progress');
  assert.equal(bucketOf('restarting', 'unreachable'), 'in-progress');
  assert.equal(bucketOf('expired', 'online'), 'expired');
});

test('pause on confirmed failures over the threshold; advance only once the released units settled and one committed; the deadline counts the silent', () => {
  const u = (wave: number, state: RolloutUnit['state'], reported = true) => ({
    unitId: `${wave}-${state}`,
    wave,
    state,
    reported,
    reach: 'online' as const,
  });
  const canary = [u(0, 'updated'), u(0, 'rolled-back'), u(1, 'pending', false), u(1, 'pending', false)];
  assert.deepEqual(shouldPause(canary, 0, { failureThreshold: 0.4 }), { pause: true, failures: 1 }, '1 of 2 released > 40 %');
  assert.equal(shouldPause(canary, 1, { failureThreshold: 0.4 }).pause, false, '1 of 4 released');
  assert.equal(shouldPause([u(0, 'deferred'), u(0, 'no-report')], 0, { failureThreshold: 0 }).pause, false);
  assert.equal(mayAdvance([u(0, 'updated'), { ...u(0, 'queued'), reach: 'asleep' }], 0), true);
  assert.equal(mayAdvance([u(0, 'updated'), u(0, 'installing')], 0), false);
  assert.equal(mayAdvance([u(0, 'deferred')], 0), false, 'nobody proved the release yet');
  assert.deepEqual([u(0, 'delivered', false), u(0, 'deferred'), u(1, 'pending', false), u(0, 'updated')].map(atDeadline), [
    'no-report',
    'expired',
    'cancelled',
    null,
  ]);
});
