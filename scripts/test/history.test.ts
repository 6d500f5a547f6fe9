/**
 * Readings' one store of record, end to end: with an InfluxDB configured, the gateway writes every
 * accepted power reading to it at event time, and the fleet's history API reads it back from there.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defer, startInfluxd } from '@shouwang/testkit';
import { startSystem } from '../system.ts';

interface History {
  points: { ts: number; soc: number; batteryV: number; state: string }[];
}

test('power history comes from the InfluxDB the gateway writes', { timeout: 120_000 }, async (t) => {
  const influx = await startInfluxd((fn) => defer(t, fn));
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-history-'));
  defer(t, () => rm(dataDir, { recursive: true, force: true }));
  const sys = await startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir, timeScale: 600, influxUrl: influx.url });
  defer(t, () => sys.stop());
  const unit = sys.units[0]?.id;
  assert.ok(unit);

  const deadline = Date.now() + 60_000;
  let history: History = { points: [] };
  while (Date.now() < deadline && history.points.length < 2) {
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`http://127.0.0.1:${sys.httpPort}/api/units/${unit}/history/power?from=0&to=${Date.now() + 86_400_000 * 30}`);
    assert.equal(res.status, 200);
    history = (await res.json()) as History;
  }
  assert.ok(history.points.length >= 2, `history: ${JSON.stringify(history)}`);
  const stored = await influx.query(`SELECT soc FROM power WHERE unit = '${unit}'`);
  // What the API returned is what InfluxDB holds (the fleet keeps no copy of its own here).
  assert.ok(stored.length >= history.points.length);
  for (const p of history.points)
    assert.ok(
      stored.some(([ts, soc]) => ts === p.ts && soc === p.soc),
      `point ${p.ts} not in InfluxDB`,
    );
  assert.ok(
    history.points.every((p, i, a) => i === 0 || (a[i - 1]?.ts ?? 0) <= p.ts),
    'oldest first',
  );
});
