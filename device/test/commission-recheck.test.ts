/**
 * The daylight re-check on the simulator through the real broker: a unit commissioned before
 * dawn leaves its charge check pending, and the simulated sun coming up over its fix makes the
 * unit judge it by itself, once, reported as a `commission` event carrying the judged item.
 * Simulated time runs 600× (a Harbin dawn in seconds); nothing waits on the wall clock but the
 * deadlines.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { sunElevationDeg, systemClock } from '@shouwang/hardware';
import type { UnitEvent } from '@shouwang/protocol';
import { DaylightRecheck } from '../src/services/commission-recheck.ts';
import { startDevice } from '../src/services/device.ts';
import { STATE_VERSION } from '../src/services/state-migrations.ts';
import { capture } from './log-capture.ts';
import { commission, startUnit, type Unit } from './unit.ts';
import { until } from './wait.ts';

// Harbin, 21 Dec 2026 at 07:00 local: the sun 3° below the horizon; it is 10° up at about 08:37.
const BEFORE_DAWN = Date.UTC(2026, 11, 20, 23, 0);
const SCALE = 600;
const FIRST_LIGHT = Date.UTC(2026, 11, 21, 0, 37);

/**
 * Clear and calm through the dawn: the simulator's cloud and wind walk (hours of memory), and a
 * breeze over the turbine's cut-in or a cloud bank would decide the check instead of the sun and
 * the panel. Held every simulated minute, where the walk moves the wind by a fraction of a m/s.
 */
function holdCalm(t: TestContext, u: Unit): void {
  const calm = () => u.sim.setWeather({ cloud: 0, windMps: 0 });
  calm();
  const timer = setInterval(calm, 60_000 / SCALE);
  t.after(() => clearInterval(timer));
}

async function nightRun(t: TestContext, u: Unit) {
  holdCalm(t, u);
  await until('online with a fix and a charge estimate', () => u.device.uplink.ready && u.device.agent.soc !== undefined, 15_000);
  await until('gps fix', () => u.device.gps.current()?.fix === '3d', 15_000);
  const items = await commission(u, 'com-dawn');
  const charge = items.find((i) => i.check === 'charge');
  assert.deepEqual([charge?.pass, charge?.pending], [false, true], charge?.detail);
}

const recheckEvents = (u: Unit): UnitEvent[] =>
  u.decoded().flatMap((m) => (m.type === 'uplink' && m.kind === 'event' && m.payload.item ? [m.payload] : []));

async function judged(u: Unit): Promise<UnitEvent & { item: NonNullable<UnitEvent['item']> }> {
  // 100 simulated minutes of dawn are 10 s here; the deadline leaves room for a loaded machine.
  await until('the daylight re-check reported', () => recheckEvents(u).length > 0, 40_000);
  const [ev] = recheckEvents(u);
  assert.ok(ev?.item);
  return ev as UnitEvent & { item: NonNullable<UnitEvent['item']> };
}

function assertJudgedInDaylight(u: Unit, ev: UnitEvent & { item: NonNullable<UnitEvent['item']> }): void {
  const at = ev.item.judgedAt ?? 0;
  const sun = sunElevationDeg(at, u.cfg.sim.lat, u.cfg.sim.lon);
  assert.ok(sun >= 10, `not judged before the sun is 10° up (sun ${sun.toFixed(1)}°)`);
  // It looks every 5 simulated minutes (0.5 s here): the slack is for a loaded machine, not the unit.
  assert.ok(at < FIRST_LIGHT + 80 * 60_000, `judged at first light, not hours later (${new Date(at).toISOString()})`);
  assert.equal(ev.kind, 'commission');
  assert.equal(ev.item.check, 'charge');
  assert.equal(ev.item.pending, undefined);
}

test('commissioned before dawn in calm air: at first light the unit judges its charge by itself, once, and reports it passed', async (t) => {
  const u = await startUnit(t, { timeScale: SCALE, start: BEFORE_DAWN });
  await nightRun(t, u);
  const file = join(u.cfg.dataDir ?? '', 'commission.json');
  assert.ok(existsSync(file), 'the pending check is kept on disk');
  const ev = await judged(u);
  assertJudgedInDaylight(u, ev);
  assert.deepEqual([ev.to, ev.item.pass], ['pass', true]);
  assert.match(ev.reason ?? '', /^daylight re-check: charge passed, solar \d+(\.\d)? W, wind 0 W$/);
  assert.ok((ev.item.value ?? 0) >= 0.5, 'harvest measured');
  assert.equal(u.device.recheck.pendingSince, undefined);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { stateVersion: STATE_VERSION }, 'nothing left pending on disk');
  assert.equal(await u.device.recheck.check(), undefined, 'judged once: nothing left to re-check');
  assert.equal(recheckEvents(u).length, 1);
});

test('with the panel unplugged the daylight re-check fails and says what to check', async (t) => {
  const u = await startUnit(t, { timeScale: SCALE, start: BEFORE_DAWN });
  await nightRun(t, u);
  u.sim.panelUnplugged(true);
  const ev = await judged(u);
  assertJudgedInDaylight(u, ev);
  assert.deepEqual([ev.to, ev.item.pass], ['fail', false]);
  assert.match(
    ev.reason ?? '',
    /^daylight re-check failed: charge, solar 0 W, wind 0 W: no harvest with the sun 1\d° up — check the panel \(snow, shade\) and the turbine leads$/,
  );
});

test('an agent restarted before dawn still judges the charge at first light: the pending check survives on disk', async (t) => {
  const u = await startUnit(t, { timeScale: SCALE, start: BEFORE_DAWN });
  await nightRun(t, u);
  await u.device.close();
  u.device = await startDevice(u.cfg, u.board.device, u.log, { restart: () => undefined });
  assert.ok(u.device.recheck.pendingSince !== undefined, 'read back from commission.json');
  assert.ok(sunElevationDeg(u.board.device.clock.now(), u.cfg.sim.lat, u.cfg.sim.lon) < 10, 'restarted before the sun was up');
  const ev = await judged(u);
  assertJudgedInDaylight(u, ev);
  assert.equal(ev.to, 'pass');
});

test('the pending check on disk: a run by hand in daylight forgets it, a file it cannot read is dropped with an error, the sun under 10° waits', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-recheck-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'commission.json');
  let now = BEFORE_DAWN;
  let sun: number | undefined;
  const clock = { ...systemClock, now: () => now };
  const reported: string[] = [];
  const { log, lines } = capture();
  const open = () =>
    new DaylightRecheck({
      file,
      clock,
      log,
      sunDeg: () => sun,
      monitors: async () => ({ solar: { busV: 18.2, currentA: 0.2, powerW: 3.6 }, wind: { busV: 0.2, currentA: 0, powerW: 0 } }),
      report: (_item, reason) => reported.push(reason),
    });
  const night = [{ check: 'charge', pass: false, pending: true, detail: 'cannot be judged now' }] as const;
  const r = open();
  r.afterRun(night, now);
  assert.equal(await r.check(), undefined, 'no fix: no sun, it waits');
  sun = 6;
  assert.equal(await r.check(), undefined, 'the sun 6° up: still waits');
  // A run by hand once the sun is up judged the charge itself: nothing is left for the re-check.
  now += 3_600_000;
  r.afterRun([{ check: 'charge', pass: true, detail: 'solar 3.6 W, wind 0 W' }], now);
  sun = 15;
  assert.equal(await r.check(), undefined);
  assert.equal(open().pendingSince, undefined, 'forgotten on disk too');
  assert.deepEqual(reported, []);

  r.afterRun(night, now);
  assert.equal(open().pendingSince, now);
  writeFileSync(file, JSON.stringify({ stateVersion: STATE_VERSION, chargePendingSince: 'yesterday' }));
  assert.equal(open().pendingSince, undefined);
  assert.ok(lines.some((l) => l.msg === 'pending charge check unreadable: dropped'));
  writeFileSync(file, JSON.stringify({ stateVersion: STATE_VERSION, chargePendingSince: now }));
  const item = await open().check();
  assert.deepEqual([item?.pass, item?.judgedAt, reported], [true, now, ['daylight re-check: charge passed, solar 3.6 W, wind 0 W']]);
});
