/**
 * End to end: a unit drained to 6 % (`./dev sim … setSoc soc=6`) steps down to the satellite diet
 * and closes its radio, and its low-battery alarm still reaches the fleet's alarm console, one
 * debounce (60 s) after its charge estimate fell under 15 %, not a 5-minute sampling period later,
 * and not suppressed. Unit and fleet clocks run 60× faster.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sim, units, until } from './fleet-view.ts';
import { startTestSystem } from './harness.ts';

interface UnitView {
  id: string;
  online: boolean;
  power: { soc: number; state: string } | null;
}

interface AlarmView {
  kind: string;
  state: string;
  raisedAt: number;
  inhibitedBy: string | null;
}

test('a drained unit asleep on the satellite diet: its low-battery alarm reaches the console one debounce after the charge fell under 15 %', {
  timeout: 180_000,
}, async (t) => {
  /** When each unit's own estimate first read under 15 %: the alarm's occurrence id carries it. */
  const raisedLogs: { unitId: string; alarm: string }[] = [];
  const { sys, dataDir } = await startTestSystem(t, {
    units: 1,
    timeScale: 60,
    onLog: (_source, line) => {
      try {
        const l = JSON.parse(line) as { msg?: string; unitId?: string; alarm?: string; kind?: string; state?: string };
        if (l.msg === 'alarm' && l.kind === 'low-battery' && l.state === 'raised' && l.unitId && l.alarm)
          raisedLogs.push({ unitId: l.unitId, alarm: l.alarm });
      } catch {}
    },
  });
  const [unit] = sys.units;
  assert.ok(unit);
  await until<UnitView>(sys, 'online with power', (us) => us.some((u) => u.id === unit.id && u.online && u.power !== null), 60_000);
  await sim(dataDir, unit.id, 'setSoc', 'soc=6');

  // About 14 simulated minutes: the estimate follows the pack over several samples.
  const deadline = Date.now() + 60_000;
  let alarm: AlarmView | undefined;
  while (!alarm) {
    const res = await fetch(`http://127.0.0.1:${sys.httpPort}/api/alarms?unit=${unit.id}`);
    alarm = ((await res.json()) as { alarms: AlarmView[] }).alarms.find((a) => a.kind === 'low-battery');
    if (!alarm && Date.now() > deadline) assert.fail(`no low-battery alarm at the fleet; the unit raised ${JSON.stringify(raisedLogs)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(alarm.state, 'active');
  assert.equal(alarm.inhibitedBy, null, 'a unit asleep as planned does not suppress its own alarm');
  const rung = (await units<UnitView>(sys)).find((u) => u.id === unit.id)?.power?.state;
  assert.ok(rung === 'satellite-digest' || rung === 'deep-sleep', `the fleet shows the unit on a sleeping rung: ${rung}`);

  const said = raisedLogs.find((r) => r.unitId === unit.id);
  assert.ok(said, 'the unit logged its raise');
  // `<kind>:<base-36 s>`: the time the charge was first seen under the threshold.
  const firstUnderMs = Number.parseInt(said.alarm.split(':')[1] ?? '', 36) * 1000;
  const latencyS = (alarm.raisedAt - firstUnderMs) / 1000;
  t.diagnostic(`low-battery raised ${latencyS} s (unit time) after the charge fell under 15 %`);
  assert.ok(latencyS >= 60 && latencyS < 150, `raised ${latencyS} s after the charge fell under 15 %, not one debounce`);
});
