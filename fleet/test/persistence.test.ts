import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Power } from '@shouwang/protocol';
import { send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';

const T0 = Date.now() - 3_600_000;
const power = (minute: number, soc: number): Power => ({
  seq: minute,
  ts: T0 + minute * 60_000,
  soc,
  batteryV: 12.8,
  solarW: 5,
  windW: 1,
  loadW: 6,
  state: 'full',
});

test('history is written at event time and live state survives a fleet restart', async (t) => {
  const broker = await startBroker(t);
  const dataDir = await tempDir(t);
  const first = await startTestFleet(t, broker.url, { dataDir });
  const unit = await unitClient(t, broker.url, 'hrb-010');
  await send(unit, 'hrb-010', 'location', { seq: 1, ts: T0, lat: 45.75, lon: 126.65, fix: '3d' });
  // Live, then a back-filled burst from the outage before it.
  for (const [minute, soc] of [
    [40, 60],
    [10, 70],
    [20, 67],
    [30, 63],
  ] as const)
    await send(unit, 'hrb-010', 'power', power(minute, soc));
  await waitFor(async () => {
    const h = (await (await fetch(`${first.base}/api/units/hrb-010/history/power`)).json()) as { points: unknown[] };
    return h.points.length === 4;
  });
  const history = (await (await fetch(`${first.base}/api/units/hrb-010/history/power`)).json()) as {
    points: { ts: number; soc: number }[];
  };
  assert.deepEqual(
    history.points.map((p) => p.soc),
    [70, 67, 63, 60],
  );
  assert.equal(first.state.get('hrb-010')?.power?.soc, 60);
  await first.close();

  const second = await startTestFleet(t, broker.url, { dataDir });
  const u = second.state.get('hrb-010');
  assert.equal(u?.power?.soc, 60, 'the newest reading is still the latest after a restart');
  assert.deepEqual(u?.outlook.location.deployment, { lat: 45.75, lon: 126.65 });
  const bad = await fetch(`${second.base}/api/units/hrb-010/history/power?limit=0`);
  assert.equal(bad.status, 400);
});
