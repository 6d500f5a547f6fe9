/**
 * End to end: a simulated unit drained down every rung of its power ladder is shown as it is at
 * each step — its current charge and rung, and "asleep until …" while its radio is off — and never
 * late or missing while it keeps its promise; a unit killed in its sleep breaks its promise and
 * turns late. Charge is staged through `./dev sim … setSoc`; unit and fleet clocks run 60× faster.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunningSystem } from '../system.ts';
import { units as fleetUnits } from './fleet-view.ts';
import { startTestSystem } from './harness.ts';

interface Seen {
  online: boolean;
  status: string;
  dueBy: number | null;
  state: string | undefined;
  soc: number | undefined;
}

interface UnitView {
  id: string;
  online: boolean;
  power: { soc: number; state: string } | null;
  liveness: { status: string; dueBy: number | null };
}

const SIM = fileURLToPath(new URL('../sim.ts', import.meta.url));

test('a draining unit is shown at every rung with its charge, asleep while its radio is off; a broken promise turns late', {
  timeout: 300_000,
}, async (t) => {
  const logs: string[] = [];
  /** What each unit said about its own rung changes: the charge that made each one. */
  const rungs: { unitId: string; to: string; soc: number }[] = [];
  const { sys, dataDir } = await startTestSystem(t, {
    units: 2,
    timeScale: 60,
    onLog: (source, line) => {
      logs.push(`${source} ${line}`);
      try {
        const l = JSON.parse(line) as { msg?: string; unitId?: string; to?: string; soc?: number };
        if (l.msg === 'power state changed' && l.unitId && l.to && l.soc !== undefined)
          rungs.push({ unitId: l.unitId, to: l.to, soc: l.soc });
      } catch {}
    },
  });
  const seen = new Map<string, Seen[]>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      for (const u of await units(sys).catch(() => [])) {
        const list = seen.get(u.id) ?? [];
        list.push({ online: u.online, status: u.liveness.status, dueBy: u.liveness.dueBy, state: u.power?.state, soc: u.power?.soc });
        seen.set(u.id, list);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  t.after(async () => {
    polling = false;
    await poller;
  });
  const [drained, sleeper] = sys.units;
  assert.ok(drained && sleeper);

  /** Waits (polling, with a deadline that fails clearly) until some observation of the unit satisfies `ok`. */
  const until = async (id: string, what: string, ok: (s: Seen) => boolean, timeoutMs: number, from = 0): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = seen.get(id) ?? [];
      const i = list.findIndex((s, j) => j >= from && ok(s));
      if (i >= 0) return i;
      if (Date.now() > deadline) {
        console.log(logs.slice(-80).join('\n'));
        assert.fail(`${id}: ${what} not seen within ${timeoutMs} ms; last: ${JSON.stringify(list.at(-1))}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const sim = (id: string, soc: number) => promisify(execFile)(process.execPath, [SIM, '--data-dir', dataDir, id, 'setSoc', `soc=${soc}`]);
  /** The rung change as the unit logged it, then the fleet showing that charge and rung. */
  const shown = async (id: string, rung: string, asleep: boolean): Promise<number> => {
    const deadline = Date.now() + 90_000;
    let said = rungs.find((r) => r.unitId === id && r.to === rung);
    while (!said) {
      if (Date.now() > deadline) assert.fail(`${id} never went to ${rung}: ${JSON.stringify(rungs)}`);
      await new Promise((r) => setTimeout(r, 100));
      said = rungs.find((r) => r.unitId === id && r.to === rung);
    }
    const at = await until(id, `${rung} at ${said.soc} %`, (s) => s.state === rung && s.soc === said.soc, 30_000);
    if (!asleep) return at;
    return until(
      id,
      `asleep on ${rung}`,
      (s) => s.state === rung && !s.online && s.status === 'on-schedule' && s.dueBy !== null,
      60_000,
      at,
    );
  };

  await until(drained.id, 'online with power', (s) => s.online && s.soc !== undefined, 60_000);
  await until(sleeper.id, 'online with power', (s) => s.online && s.soc !== undefined, 60_000);

  // The sleeper goes to modem windows and is killed in its sleep: no goodbye, no will (it is
  // already disconnected), so only the passing of its promise can tell.
  await sim(sleeper.id, 30);
  const slept = await shown(sleeper.id, 'scheduled-modem', true);
  sleeper.child.kill('SIGKILL');

  // Down every rung (LiFePO4 resting voltages put each staged charge inside one rung's band).
  await sim(drained.id, 45);
  await shown(drained.id, 'alarm-camera', false);
  await sim(drained.id, 30);
  const asleep = await shown(drained.id, 'scheduled-modem', true);
  // It keeps its promise: back in its next hourly window, and asleep again after it.
  const woke = await until(drained.id, 'back online in its next window', (s) => s.online, 90_000, asleep);
  await until(drained.id, 'asleep after its window', (s) => !s.online && s.status === 'on-schedule', 90_000, woke);
  await sim(drained.id, 15);
  await shown(drained.id, 'satellite-digest', true);
  await sim(drained.id, 3);
  await shown(drained.id, 'deep-sleep', true);

  const faults = (seen.get(drained.id) ?? []).filter((s) => s.status !== 'online' && s.status !== 'on-schedule');
  assert.deepEqual(faults, [], 'a unit keeping its promises is never late or missing');

  const late = await until(sleeper.id, 'late once its promise passed', (s) => s.status === 'late', 90_000, slept);
  const between = (seen.get(sleeper.id) ?? []).slice(slept, late);
  assert.ok(
    between.every((s) => s.status === 'on-schedule'),
    `asleep until its promise passed: ${JSON.stringify(between.map((s) => s.status))}`,
  );
});

const units = (sys: RunningSystem) => fleetUnits<UnitView>(sys);
