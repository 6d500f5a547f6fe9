/**
 * End to end on ephemeral ports: gateway + fleet + two simulated unit processes, talking only
 * over MQTT and HTTP as in the field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import type { RunningSystem } from '../system.ts';
import { units as fleetUnits, sim, until as untilFleet } from './fleet-view.ts';
import { startTestSystem } from './harness.ts';

interface UnitView {
  id: string;
  online: boolean;
  power: { soc: number; solarW: number; windW: number; loadW: number } | null;
  location: { lat: number; lon: number } | null;
  link: { type: string; bars: number } | null;
}

const units = (sys: RunningSystem) => fleetUnits<UnitView>(sys);
const until = (sys: RunningSystem, what: string, ok: (u: UnitView[]) => boolean, ms: number) => untilFleet<UnitView>(sys, what, ok, ms);

test('two simulated units come online, report, follow the simulator (towed, drained, link cut), and go offline through their last will', {
  timeout: 120_000,
}, async (t) => {
  const logs: string[] = [];
  const { sys, dataDir } = await startTestSystem(t, {
    units: 2,
    // Half a minute of unit time a second: a status report every two seconds.
    timeScale: 30,
    onLog: (source, line) => logs.push(`${source} ${line}`),
  });
  try {
    await bothOnlineThenOneKilled(sys, dataDir);
  } catch (err) {
    console.log(logs.slice(-120).join('\n'));
    throw err;
  }
});

async function bothOnlineThenOneKilled(sys: RunningSystem, dataDir: string): Promise<void> {
  const live = await until(
    sys,
    'both units online with power, location and link',
    (us) => us.length === 2 && us.every((u) => u.online && u.power && u.location && u.link),
    60_000,
  );
  for (const [i, u] of live.entries()) {
    const site = sys.units[i]?.site;
    assert.ok(site);
    assert.equal(u.id, sys.units[i]?.id);
    assert.ok(u.power && u.power.soc >= 0 && u.power.soc <= 100);
    // The simulated GPS jitters around the deployment point: within ~100 m.
    assert.ok(
      u.location && Math.abs(u.location.lat - site.lat) < 0.001 && Math.abs(u.location.lon - site.lon) < 0.0015,
      JSON.stringify(u.location),
    );
    assert.ok(u.link && ['lte', 'nr', 'satellite'].includes(u.link.type));
  }

  // Staged through `./dev sim`: tow the second unit 2 km north and drain its pack to 45 % (the radio
  // stays up on that rung; lower ones sleep it, which the liveness tests cover); the fleet follows
  // (the agent's charge estimate converges on the new truth over a few reports, hence < 65 %).
  const towed = sys.units[1];
  assert.ok(towed);
  assert.deepEqual(await sim(dataDir, towed.id, 'move', `lat=${towed.site.lat + 0.018}`, `lon=${towed.site.lon}`), { ok: true });
  assert.deepEqual(await sim(dataDir, towed.id, 'setSoc', 'soc=45'), { ok: true });
  await until(
    sys,
    `${towed.id} moved and drained`,
    (us) => {
      const u = us.find((x) => x.id === towed.id);
      return !!u?.location && u.location.lat > towed.site.lat + 0.015 && !!u.power && u.power.soc < 65;
    },
    30_000,
  );

  // Cut its radio path for a few seconds: the fleet shows it offline, then back once the link returns.
  assert.deepEqual(await sim(dataDir, towed.id, 'linkOutage', 'ms=4000'), { ok: true });
  await until(sys, `${towed.id} offline during the outage`, (us) => us.find((u) => u.id === towed.id)?.online === false, 20_000);
  await until(sys, `${towed.id} back after the outage`, (us) => us.find((u) => u.id === towed.id)?.online === true, 30_000);

  // kill -9: no goodbye from the agent; the broker sees the socket die and publishes the will.
  const victim = sys.units[0];
  assert.ok(victim);
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await until(sys, `${victim.id} offline`, (us) => us.find((u) => u.id === victim.id)?.online === false, 60_000);
  // The kernel closes a killed process's socket: the broker sees it at once and publishes the
  // will. Waiting out the keepalive instead (1.5 × 30 s) would be the regression.
  const tookS = (Date.now() - killedAt) / 1000;
  assert.ok(tookS < 15, `offline after ${tookS} s: the will came from the keepalive, not from the closed socket`);
  const other = (await units(sys)).find((u) => u.id === sys.units[1]?.id);
  assert.equal(other?.online, true, 'the other unit stays online');
}

test('a unit with wrong credentials is refused', { timeout: 60_000 }, async (t) => {
  const { sys } = await startTestSystem(t, { units: 1 });
  const unit = sys.units[0];
  assert.ok(unit);
  for (const [username, password] of [
    [unit.id, 'not-the-password'],
    ['hrb-999', unit.password],
    ['fleet', unit.password],
  ] as const) {
    const err = await new Promise<Error>((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${sys.mqttPort}`, { username, password, clientId: username, reconnectPeriod: 0 });
      c.on('error', (e) => {
        c.end(true);
        resolve(e);
      });
      c.on('connect', () => {
        c.end(true);
        resolve(new Error('connected'));
      });
    });
    assert.match(err.message, /Bad username or password|Not authorized/, `${username}: ${err.message}`);
  }
  const metrics = await (await fetch(`http://127.0.0.1:${sys.gatewayHttpPort}/metrics`)).text();
  // The samples, not the HELP/TYPE lines (which are there with no failure at all).
  const refused = metrics
    .split('\n')
    .filter((l) => l.startsWith('shouwang_gateway_auth_failures_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  assert.equal(refused, 3, `failed logins are counted:\n${metrics}`);
});
