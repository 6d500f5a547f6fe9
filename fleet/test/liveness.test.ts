/**
 * Liveness that understands planned sleep, driven by node:test mock timers: no wall-clock waits.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { DecodedMessage, Power, Presence } from '@shouwang/protocol';
import type { LivenessStatus } from '../src/domain/liveness.ts';
import { FleetState } from '../src/services/fleet-state.ts';

const T0 = 1_763_856_000_000; // 2025-11-23T00:00Z
const MIN = 60_000;
const HOUR = 60 * MIN;

const presence = (unitId: string, p: Presence): DecodedMessage => ({ unitId, type: 'uplink', kind: 'presence', payload: p });
const power = (unitId: string, ts: number, soc: number, extra: Partial<Power> = {}): DecodedMessage => ({
  unitId,
  type: 'uplink',
  kind: 'power',
  payload: { seq: ts / 1000, ts, soc, batteryV: 12.8, solarW: 0, windW: 0, loadW: 4, state: 'scheduled-modem', ...extra },
});

/** A fleet state on mocked time with the production beat: sweep every 5 s. */
function mockedFleet(t: TestContext) {
  t.mock.timers.enable({ apis: ['Date', 'setInterval'], now: T0 });
  const state = new FleetState({ clock: { now: () => Date.now() } });
  const seen: { id: string; status: LivenessStatus }[] = [];
  state.on('unit', (u) => seen.push({ id: u.id, status: u.liveness.status }));
  const beat = setInterval(() => state.sweep(), 5000);
  t.after(() => clearInterval(beat));
  const status = (id: string) => state.get(id)?.liveness.status;
  const advance = (ms: number) => {
    // Tick in sweep-sized steps so every beat fires, as it would in a running fleet.
    for (let left = ms; left > 0; left -= 5000) t.mock.timers.tick(Math.min(5000, left));
  };
  return { state, seen, status, advance };
}

test('a unit that sleeps on schedule is never shown missing; one that misses its window is', (t) => {
  const { state, status, advance, seen } = mockedFleet(t);
  // Two units go to sleep for six hours at T0; one keeps its promise.
  for (const id of ['hrb-001', 'hrb-002']) {
    state.apply(presence(id, { state: 'online', ts: T0 }));
    state.apply(power(id, T0, 64));
    state.apply(presence(id, { state: 'offline', ts: T0, nextContactBy: T0 + 6 * HOUR }));
  }
  assert.equal(status('hrb-001'), 'on-schedule');
  advance(6 * HOUR - MIN);
  assert.equal(status('hrb-001'), 'on-schedule', 'a long planned sleep is not an outage');
  state.apply(presence('hrb-001', { state: 'online', ts: Date.now() }));
  assert.equal(status('hrb-001'), 'online');

  advance(2 * MIN);
  assert.equal(status('hrb-002'), 'late');
  // Grace is a quarter of the planned sleep (90 min) rather than the 10 min floor.
  advance(80 * MIN);
  assert.equal(status('hrb-002'), 'late');
  advance(10 * MIN);
  assert.equal(status('hrb-002'), 'missing');
  assert.deepEqual(
    seen.filter((e) => e.id === 'hrb-002').map((e) => e.status),
    ['online', 'online', 'on-schedule', 'late', 'missing'],
    'the sweep announces each change once',
  );
});

test('a silent unit whose battery was draining is presumed out of power, with last charge and trend', (t) => {
  const { state, status, advance } = mockedFleet(t);
  state.apply(presence('hrb-003', { state: 'online', ts: T0 }));
  for (let h = 0; h <= 4; h++) {
    if (h > 0) advance(HOUR);
    state.apply(power('hrb-003', T0 + h * HOUR, 60 - h * 10)); // −10 %/h
  }
  state.apply(presence('hrb-003', { state: 'offline', ts: T0 }));
  assert.equal(status('hrb-003'), 'late');
  advance(10 * MIN + 5000);
  assert.equal(status('hrb-003'), 'missing', 'at 20 % and −10 %/h the battery cannot be empty yet');
  advance(110 * MIN);
  const u = state.get('hrb-003');
  assert.equal(u?.liveness.status, 'presumed-out-of-power', 'two hours at −10 %/h empty a 20 % battery');
  assert.equal(u?.liveness.lastSoc, 20);
  assert.ok(Math.abs((u?.liveness.socTrendPctH ?? 0) + 10) < 1e-9, `trend ${u?.liveness.socTrendPctH}`);
  assert.equal(u?.liveness.projectedSoc, 0);
});

test('without a declared window the default silence applies; a healthy battery means missing', (t) => {
  const { state, status, advance } = mockedFleet(t);
  state.apply(power('hrb-004', T0, 90));
  assert.equal(status('hrb-004'), 'on-schedule');
  advance(15 * MIN + 5000);
  assert.equal(status('hrb-004'), 'late');
  advance(10 * MIN);
  assert.equal(status('hrb-004'), 'missing');
});

test('a dropped link with no promise is late at once, then missing after the grace period', (t) => {
  const { state, status, advance } = mockedFleet(t);
  state.apply(presence('hrb-005', { state: 'online', ts: T0 }));
  state.apply(presence('hrb-005', { state: 'offline', ts: T0 }));
  assert.equal(status('hrb-005'), 'late');
  advance(10 * MIN + 5000);
  assert.equal(status('hrb-005'), 'missing');
});

test('a unit restarting into a release is restarting until its health window ends, then late like any broken promise', (t) => {
  const { state, status, advance } = mockedFleet(t);
  const by = T0 + 5 * MIN;
  state.apply(presence('hrb-006', { state: 'online', ts: T0 - MIN, nextContactBy: T0 + HOUR }));
  state.apply(presence('hrb-006', { state: 'offline', ts: T0, nextContactBy: by, restarting: { into: '0.2.0', by } }));
  // The will composed at the connect lands after the unit's own word: it does not turn the restart into a sleep.
  state.apply(presence('hrb-006', { state: 'offline', ts: T0 - MIN, nextContactBy: T0 + HOUR }));
  assert.equal(status('hrb-006'), 'restarting');
  assert.equal(state.get('hrb-006')?.liveness.restartingInto, '0.2.0');
  assert.equal(state.get('hrb-006')?.liveness.dueBy, by);
  advance(5 * MIN);
  assert.equal(status('hrb-006'), 'late', 'not back by the end of the health window');
  advance(10 * MIN + 5000);
  assert.equal(status('hrb-006'), 'missing');
});

test('an online after a restart ends it, even from a clock behind the old slot’s: a later will is not a restart', (t) => {
  const { state, status } = mockedFleet(t);
  const by = T0 + 5 * MIN;
  state.apply(presence('hrb-007', { state: 'offline', ts: T0, nextContactBy: by, restarting: { into: '0.2.0', by } }));
  state.apply(presence('hrb-007', { state: 'online', ts: T0 - 30_000 }));
  assert.equal(status('hrb-007'), 'online');
  state.apply(presence('hrb-007', { state: 'offline', ts: T0 - 30_000 }));
  assert.notEqual(status('hrb-007'), 'restarting');
});
