/**
 * The update's pure decisions (domain/ota-plan.ts): when a job may go on, which artifact a unit
 * fetches, and what the launcher boots — including that every write it asks for can be cut off
 * and repeated without changing where the unit ends up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReleaseManifest, UpdateJob } from '@shouwang/protocol';
import { type BootState, bootDecision, type Conditions, chooseArtifact, inWindow, mayProceed, type Slot } from '../src/domain/ota-plan.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const manifest: ReleaseManifest = {
  format: 1,
  version: '0.2.0',
  createdAt: 0,
  boards: ['pi4'],
  minBatteryPct: 30,
  bundle: { size: 10, sha256: SHA_B },
  full: { name: 'full.zst', size: 5, sha256: SHA_B },
  deltas: [{ from: '0.1.0', fromSha256: SHA_A, name: 'd.zst', size: 1, sha256: SHA_B }],
  stateVersion: 1,
};
const job: UpdateJob = {
  campaign: 'c1',
  release: { body: '{}', keyId: 'k', signature: `${'A'.repeat(86)}==` },
  artifacts: [
    { name: 'full.zst', url: 'http://x/full.zst' },
    { name: 'd.zst', url: 'http://x/d.zst' },
  ],
  deadline: 1000,
  policy: { allowSatellite: false },
};
const ok: Conditions = { now: 0, localMinutes: 600, soc: 80, link: 'lte', powerState: 'full', board: 'pi4', stateVersion: 2 };

test('a job goes on only with charge, a cellular link and inside its window; the deadline and the board end it', () => {
  assert.deepEqual(mayProceed(job, manifest, ok), { go: true });
  const why = (c: Partial<Conditions>, j: UpdateJob = job) => {
    const g = mayProceed(j, manifest, { ...ok, ...c });
    return g.go ? 'go' : `${g.step}:${g.reason}`;
  };
  assert.equal(why({ soc: 29.9 }), 'deferred:battery');
  assert.equal(why({ soc: undefined }), 'deferred:battery');
  assert.equal(
    why({ soc: 35 }, { ...job, policy: { allowSatellite: false, minBatteryPct: 40 } }),
    'deferred:battery',
    'a campaign may raise the floor',
  );
  assert.equal(
    why({ soc: 35 }, { ...job, policy: { allowSatellite: false, minBatteryPct: 10 } }),
    'go',
    'but never lower it below the manifest',
  );
  assert.equal(why({ link: 'satellite' }), 'deferred:link');
  assert.equal(why({ powerState: 'satellite-digest' }), 'deferred:link');
  assert.equal(why({ link: 'satellite' }, { ...job, policy: { allowSatellite: true } }), 'go');
  assert.equal(why({ link: 'none' }, { ...job, policy: { allowSatellite: true } }), 'deferred:link');
  assert.equal(
    why({ localMinutes: 600 }, { ...job, policy: { allowSatellite: false, window: { start: '22:00', end: '05:00' } } }),
    'deferred:window',
  );
  assert.equal(why({ localMinutes: 60 }, { ...job, policy: { allowSatellite: false, window: { start: '22:00', end: '05:00' } } }), 'go');
  assert.equal(why({ now: 1001 }), 'failed:deadline');
  assert.equal(why({ board: 'zero2w' }), 'failed:board');
});

test('a release whose state this agent could not read after a rollback fails; an additive one, newer or not, goes', () => {
  const why = (m: Partial<ReleaseManifest>) => {
    const g = mayProceed(job, { ...manifest, ...m }, ok);
    return g.go ? 'go' : `${g.step}:${g.reason}:${g.detail}`;
  };
  assert.equal(why({ stateVersion: 5 }), 'go', 'additive migrations: the running agent reads state 5 as it stands');
  assert.equal(why({ stateVersion: 5, stateReadableFrom: 2 }), 'go', 'readable from this agent’s own state version');
  assert.equal(why({ stateVersion: 1 }), 'go', 'an older release reads this agent’s files as they stand');
  assert.equal(
    why({ stateVersion: 5, stateReadableFrom: 3 }),
    'failed:state:release writes state 5 readable only from state 3; this agent (state 2) could not roll back to it',
  );
});

test('maintenance windows wrap past midnight', () => {
  const w = { start: '22:00', end: '05:00' };
  assert.ok(inWindow(w, 22 * 60));
  assert.ok(inWindow(w, 4 * 60 + 59));
  assert.ok(!inWindow(w, 5 * 60));
  assert.ok(!inWindow({ start: '01:00', end: '03:00' }, 3 * 60));
  assert.ok(inWindow({ start: '01:00', end: '01:00' }, 0), 'an empty window means any time');
});

test('the delta only when the running bundle is the one it was made from; else the full one, with the reason', () => {
  assert.equal(chooseArtifact(job, manifest, { version: '0.1.0', sha256: SHA_A }).kind, 'delta');
  const differs = chooseArtifact(job, manifest, { version: '0.1.0', sha256: SHA_B });
  assert.equal(differs.kind, 'full');
  assert.match(differs.kind === 'full' ? differs.why : '', /differs/);
  const unknown = chooseArtifact(job, manifest, { version: '0.0.7', sha256: SHA_A });
  assert.equal(unknown.kind === 'full' && unknown.why, 'no delta from 0.0.7');
  // A delta that was refused here (a tampered or corrupt download): the full bundle, saying so.
  const refused = chooseArtifact(job, manifest, { version: '0.1.0', sha256: SHA_A }, true);
  assert.equal(refused.kind === 'full' && refused.why, 'the delta from 0.1.0 did not verify here');
  const noDeltaUrl = chooseArtifact({ ...job, artifacts: [{ name: 'full.zst', url: 'http://x/full.zst' }] }, manifest, {
    version: '0.1.0',
    sha256: SHA_A,
  });
  assert.equal(noDeltaUrl.kind, 'full');
  assert.equal(
    chooseArtifact({ ...job, artifacts: [{ name: 'd.zst', url: 'http://x/d.zst' }] }, manifest, { version: '0.0.7', sha256: SHA_A }).kind,
    'none',
  );
});

/** Applies a decision as boot-select does, stopping after `writes` of its writes (a power cut). */
function apply(disk: { state: BootState; current: Slot }, writes: number): void {
  const d = bootDecision(disk.state, disk.current, 5);
  const steps: (() => void)[] = [];
  const { before, after } = d;
  if (before)
    steps.push(() => {
      disk.state = before;
    });
  if (d.boot !== disk.current)
    steps.push(() => {
      disk.current = d.boot;
    });
  if (after)
    steps.push(() => {
      disk.state = after;
    });
  for (const s of steps.slice(0, writes)) s();
}

test('a crash loop uses up the trial boots, then the previous slot boots and the rollback is recorded', () => {
  const trial = { slot: 'b', previous: 'a', boots: 0, maxBoots: 3, until: 100, campaign: 'c1', version: '0.2.0' } as const;
  const disk: { state: BootState; current: Slot } = { state: { format: 1, trial }, current: 'b' };
  for (let i = 1; i <= 3; i++) {
    apply(disk, 9);
    assert.equal(disk.current, 'b');
    assert.equal(disk.state.trial?.boots, i);
  }
  apply(disk, 9);
  assert.equal(disk.current, 'a');
  assert.deepEqual(disk.state, {
    format: 1,
    last: { slot: 'b', campaign: 'c1', version: '0.2.0', outcome: 'rolled-back', reason: 'crash-loop', at: 5 },
  });
  apply(disk, 9);
  assert.equal(disk.current, 'a', 'and it stays there');
});

test('a cut between any two of the launcher writes ends in the same place on the next boot', () => {
  const trial = { slot: 'b', previous: 'a', boots: 3, maxBoots: 3, until: 100, campaign: 'c1', version: '0.2.0' } as const;
  for (const abandon of [undefined, 'health-check'] as const) {
    for (let writes = 0; writes <= 3; writes++) {
      const disk: { state: BootState; current: Slot } = {
        state: { format: 1, trial: { ...trial, ...(abandon ? { abandon } : {}) } },
        current: 'b',
      };
      apply(disk, writes);
      apply(disk, 9);
      assert.equal(disk.current, 'a', `${abandon ?? 'crash-loop'}, cut after ${writes} writes`);
      assert.equal(disk.state.trial, undefined);
      assert.equal(disk.state.last?.reason, abandon ?? 'crash-loop');
    }
  }
  // A trial written but never switched to (the cut came before the switch): dropped, the old slot boots.
  const never: { state: BootState; current: Slot } = { state: { format: 1, trial: { ...trial, boots: 0 } }, current: 'a' };
  apply(never, 9);
  assert.deepEqual(never, { state: { format: 1 }, current: 'a' });
});
