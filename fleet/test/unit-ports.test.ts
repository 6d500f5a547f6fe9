/**
 * What a unit says about its serial parts reaches the unit's view: the link status's `ports` (GPS
 * and modem port state, path, reopens, drops by reason) and a location without a fix, which has
 * no position to show.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

test('the unit view carries the link status’s port health and drop counters, compact-encoded or not', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const api = apiClient(fleet.base);
  const unit = await unitClient(t, broker.url, 'hrb-301');
  const ports = {
    gps: { state: 'silent' as const, path: '/dev/ttyUSB1', reopens: 3, drops: { checksum: 2, framing: 1 } },
    modem: { state: 'open' as const, path: '/dev/ttyUSB2', reopens: 0, drops: { late: 4, unparsable: 1 } },
  };
  await send(unit, 'hrb-301', 'link', { seq: 1, ts: 1000, type: 'lte', registered: true, ports }, { encoding: 'compact' });
  await send(unit, 'hrb-301', 'location', { seq: 2, ts: 2000, fix: 'none' });
  await waitFor(() => fleet.state.get('hrb-301')?.location !== null && fleet.state.get('hrb-301')?.link !== null);
  const view = await api('GET', '/api/units/hrb-301', null);
  assert.equal(view.status, 200);
  const link = view.body.link as { ports: unknown; rssiDbm?: number; registered: boolean };
  assert.deepEqual(link.ports, ports);
  assert.equal(link.rssiDbm, undefined, 'unknown signal stays unknown');
  assert.deepEqual(view.body.location, { seq: 2, ts: 2000, fix: 'none' });
});
