/**
 * The Harbin-winter scenario on the simulator with a clock ~20,000× real time (a December day in
 * about four seconds): starting at 30 % charge the ladder walks down rung by rung to deep sleep
 * as the short days and −25 °C nights drain the pack; when a windy spell sets in, it climbs back.
 * Each change is logged with its reason and published as a `power-state` event.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POWER_STATES, type UnitEvent } from '@shouwang/protocol';
import { startUnit } from './unit.ts';
import { until } from './wait.ts';

test('Harbin winter: the power ladder walks down to deep sleep and back up', { timeout: 170_000 }, async (t) => {
  const u = await startUnit(t, { timeScale: 20_000, simSoc: 30, start: Date.UTC(2026, 11, 18, 0, 0) });
  /** Every rung change as the agent recorded it: queued events (sent when the rung allows) plus sent ones. */
  const changes = () => {
    const events = new Map<number, UnitEvent>();
    for (const r of u.device.outbox.next(10_000, { kinds: ['event'] })) events.set(r.seq, r.payload as UnitEvent);
    for (const m of u.decoded()) if (m.type === 'uplink' && m.kind === 'event') events.set(m.payload.seq, m.payload);
    return [...events.values()].filter((e) => e.kind === 'power-state').sort((a, b) => a.seq - b.seq);
  };
  const diag = () =>
    `path ${changes()
      .map((e) => e.to)
      .join(' → ')}; truth ${JSON.stringify(u.sim.truth().power)}`;

  await until('deep sleep', () => u.device.agent.powerState === 'deep-sleep', 80_000).catch((e: Error) =>
    assert.fail(`${e.message}: ${diag()}`),
  );
  // The way down passed every rung in order (one rung per decision, never skipping).
  const down = changes().map((e) => e.to);
  assert.deepEqual(down.slice(down.indexOf('alarm-camera')), ['alarm-camera', 'scheduled-modem', 'satellite-digest', 'deep-sleep'], diag());
  // Deep sleep takes the radio down: only alarms and the compact status may open it.
  await until('radio off in deep sleep', () => !u.sim.truth().modem.radioOn, 10_000);

  // A windy spell: the simulator's weather relaxes to the scenario's mean within hours, so keep it blowing.
  const storm = setInterval(() => u.sim.setWeather({ cloud: 0, windMps: 14 }), 50);
  t.after(() => clearInterval(storm));
  await until(
    'back on a cellular rung',
    () => ['scheduled-modem', 'alarm-camera', 'full'].includes(u.device.agent.powerState),
    60_000,
  ).catch((e: Error) => assert.fail(`${e.message}: ${diag()}`));
  const all = changes();
  const path = all.map((e) => e.to);
  const bottom = path.lastIndexOf('deep-sleep');
  assert.deepEqual(path.slice(bottom, bottom + 3), ['deep-sleep', 'satellite-digest', 'scheduled-modem'], diag());
  for (const e of all) {
    assert.ok(POWER_STATES.includes(e.to as (typeof POWER_STATES)[number]));
    assert.match(e.reason ?? '', /^[a-z-]+ → [a-z-]+: (soc [\d.]+% (below|at or above) \d+%|autonomy)/);
  }
});
