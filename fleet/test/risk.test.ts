import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedMessage, Power } from '@shouwang/protocol';
import { unitsAtRisk } from '../src/domain/risk.ts';
import { FleetState } from '../src/services/fleet-state.ts';

const T0 = 1_763_856_000_000;
const HOUR = 3_600_000;
const power = (unitId: string, ts: number, soc: number, extra: Partial<Power> = {}): DecodedMessage => ({
  unitId,
  type: 'uplink',
  kind: 'power',
  payload: { seq: 1, ts, soc, batteryV: 12.8, solarW: 0, windW: 0, loadW: 4, state: 'full', ...extra },
});
const online = (unitId: string): DecodedMessage => ({ unitId, type: 'uplink', kind: 'presence', payload: { state: 'online', ts: T0 } });

test('units at risk in the next 48 h: dark units first, then the soonest to run out', () => {
  let now = T0;
  const state = new FleetState({ clock: { now: () => now } });
  state.apply(power('hrb-gone', T0, 80)); // never says online; goes silent
  for (const id of ['hrb-ok', 'hrb-soon', 'hrb-later', 'hrb-charging']) state.apply(online(id));
  now = T0 + 2 * HOUR;
  state.apply(power('hrb-ok', now, 90, { timeToEmptyH: 120 }));
  state.apply(power('hrb-soon', now, 20, { timeToEmptyH: 6 }));
  state.apply(power('hrb-later', now, 60, { timeToEmptyH: 40 }));
  state.apply(power('hrb-charging', now, 30, { solarW: 40 }));

  const risk = unitsAtRisk(state.list(), 48);
  assert.deepEqual(
    risk.map((r) => [r.id, r.reason, r.hoursLeft]),
    [
      ['hrb-gone', 'missing', 0],
      ['hrb-soon', 'battery', 6],
      ['hrb-later', 'battery', 40],
    ],
  );
  assert.deepEqual(
    unitsAtRisk(state.list(), 24).map((r) => r.id),
    ['hrb-gone', 'hrb-soon'],
  );
});

test('a SIM about to hit its monthly cap is at risk too, with its registry budget or the default', () => {
  const now = Date.UTC(2026, 10, 16);
  const state = new FleetState({ clock: { now: () => now } });
  const link = (unitId: string, bytesMonth: number): DecodedMessage => ({
    unitId,
    type: 'uplink',
    kind: 'link',
    payload: { seq: 2, ts: now, type: 'lte', rssiDbm: -80, bars: 4, bytesMonth },
  });
  for (const id of ['hrb-chatty', 'hrb-frugal', 'hrb-capped']) state.apply(online(id));
  state.apply(link('hrb-chatty', 29_000_000)); // default 30 MB: 1 MB left at ~1.93 MB/day
  state.apply(link('hrb-frugal', 1_200_000));
  state.apply(link('hrb-capped', 1_200_000));
  state.setDataBudget('hrb-capped', 1_000_000); // already over its 1 MB plan
  const risk = unitsAtRisk(state.list(), 48);
  assert.deepEqual(
    risk.map((r) => [r.id, r.reason, Math.round(r.hoursLeft)]),
    [
      ['hrb-capped', 'data-budget', 0],
      ['hrb-chatty', 'data-budget', 12],
    ],
  );
  assert.equal(state.get('hrb-frugal')?.outlook.link.budgetHoursLeft, null);
  state.setDataBudget('hrb-capped', null);
  assert.equal(state.get('hrb-capped')?.outlook.link.budgetBytes, 30_000_000, 'cleared back to the default');
});
