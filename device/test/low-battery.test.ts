/**
 * A drained unit raises its low-battery alarm one debounce after its charge falls under the
 * threshold, whatever rung it has stepped down to: the low rungs sample every 5 or 15 minutes, and
 * the alarm must not wait for the next of those samples.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedMessage } from '@shouwang/protocol';
import { DEFAULT_ALARM_CONFIG } from '../src/domain/alarms.ts';
import { startUnit } from './unit.ts';
import { until } from './wait.ts';

type Uplink = Extract<DecodedMessage, { type: 'uplink' }>;
const uplinks = (ms: DecodedMessage[]): Uplink[] => ms.filter((m): m is Uplink => m.type === 'uplink');

test('a pack drained to 6 %: the low-battery alarm reaches the broker one debounce after the charge falls under 15 %', async (t) => {
  const u = await startUnit(t, { timeScale: 120, start: Date.UTC(2026, 0, 15, 3, 20) });
  await until('online', () => u.device.uplink.ready, 15_000);
  u.sim.setSoc(6);

  const alarm = () => uplinks(u.decoded()).find((m) => m.kind === 'alarm' && m.payload.kind === 'low-battery');
  // 20 simulated minutes at ×120: the estimate takes several samples to come down to the truth.
  await until('a low-battery alarm at the broker', () => alarm() !== undefined, 20_000);
  const a = alarm();
  assert.ok(a?.kind === 'alarm');
  assert.equal(a.payload.state, 'raised');
  assert.ok((a.payload.value ?? 100) < DEFAULT_ALARM_CONFIG.lowSocPct, `raised on a charge under the threshold: ${a.payload.value}`);

  // The id carries the time the charge was first seen under the threshold (alarmId: base-36 seconds).
  const firstUnderMs = Number.parseInt(a.payload.id.split(':')[1] ?? '', 36) * 1000;
  const latencyS = (a.payload.ts - firstUnderMs) / 1000;
  const rung = u.device.agent.powerState;
  assert.ok(rung === 'satellite-digest' || rung === 'deep-sleep', `a rung that samples slowly: ${rung}`);
  // 60 s of debounce, not the rung's 300 or 900 s sampling period (the slack is timer lateness at ×120).
  assert.ok(latencyS >= 60 && latencyS < 150, `raised ${latencyS} s after the charge fell under the threshold`);
});
