/**
 * The last word before sleep: a unit that drops down its power ladder tells the fleet its charge,
 * rung and next-contact promise before the radio closes, so a planned sleep never reads as a fault.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedMessage } from '@shouwang/protocol';
import { startUnit } from './unit.ts';
import { until } from './wait.ts';

const HOUR = 3_600_000;

type Uplink = Extract<DecodedMessage, { type: 'uplink' }>;
const uplinks = (ms: DecodedMessage[]): Uplink[] => ms.filter((m): m is Uplink => m.type === 'uplink');

test('dropping to modem windows outside a window: charge, rung and the promise go out before the radio closes', async (t) => {
  // 03:20 UTC: twenty minutes past the hourly window, so the new rung closes the radio at once.
  const start = Date.UTC(2026, 0, 15, 3, 20);
  const u = await startUnit(t, { timeScale: 60, start });
  await until('online', () => u.device.uplink.ready, 15_000);
  u.sim.setSoc(30);

  const offline = () => uplinks(u.decoded()).findIndex((m) => m.kind === 'presence' && m.payload.state === 'offline');
  await until('the unit says offline itself (not through its last will)', () => offline() >= 0, 30_000);
  const msgs = uplinks(u.decoded());
  const bye = msgs[offline()];
  assert.ok(bye?.kind === 'presence');
  const before = msgs.slice(0, offline());

  const change = before.find((m) => m.kind === 'event' && m.payload.kind === 'power-state' && m.payload.to === 'scheduled-modem');
  assert.ok(change?.kind === 'event', `no power-state event before the radio closed: ${JSON.stringify(before.map((m) => m.kind))}`);
  assert.ok(change.payload.soc !== undefined && change.payload.soc < 40, `the event carries the charge: ${JSON.stringify(change.payload)}`);
  const power = before.findLast((m) => m.kind === 'power');
  assert.ok(power?.kind === 'power', 'a power status before the radio closed');
  assert.equal(power.payload.state, 'scheduled-modem');
  assert.equal(power.payload.soc, change.payload.soc);

  // The promise is the end of the next hourly window, and it is made at the close, not at the connect.
  const ts = bye.payload.ts;
  assert.ok(ts >= power.payload.ts, 'the goodbye is composed after the last status');
  assert.equal(bye.payload.nextContactBy, ts - (ts % HOUR) + HOUR + 10 * 60_000);
});

test('dropping to the satellite diet: the digest with charge, rung and promise goes out before the radio closes', async (t) => {
  const start = Date.UTC(2026, 0, 15, 3, 20);
  const u = await startUnit(t, { timeScale: 120, start });
  await until('online', () => u.device.uplink.ready, 15_000);
  u.sim.setSoc(15);
  const digestAt = () => uplinks(u.decoded()).findIndex((m) => m.kind === 'digest' && m.payload.power.state === 'satellite-digest');
  await until('a digest on the satellite-digest rung', () => digestAt() >= 0, 60_000);
  await until(
    'offline after the digest',
    () => uplinks(u.decoded()).some((m, i) => i > digestAt() && m.kind === 'presence' && m.payload.state === 'offline'),
    30_000,
  );
  const msgs = uplinks(u.decoded());
  const digest = msgs[digestAt()];
  assert.ok(digest?.kind === 'digest');
  assert.ok(digest.payload.power.soc < 25, `charge ${digest.payload.power.soc}`);
  assert.ok((digest.payload.nextContactBy ?? 0) > digest.payload.ts, 'the digest carries the promise');
  const bye = msgs.slice(digestAt()).find((m) => m.kind === 'presence' && m.payload.state === 'offline');
  assert.ok(bye?.kind === 'presence');
  assert.ok((bye.payload.nextContactBy ?? 0) >= (digest.payload.nextContactBy ?? Infinity) - 60_000, JSON.stringify(bye.payload));
});
