/**
 * The fleet's own alarms over live state, through the real intake and store: a unit that misses
 * its declared contact window is late (missed contact), then missing (offline); the offline
 * suppresses the unit's dependent alarms; a unit back online clears them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { topics } from '@shouwang/protocol';
import { DAOLI } from './alarm-helpers.ts';
import { apiClient, send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const MIN = 60_000;

test('a missed contact window raises missed-contact, then unit-offline; a camera lost after it is inhibited; back online clears them', async (t) => {
  const broker = await startBroker(t);
  const clock = {
    at: Date.parse('2026-12-01T02:00:00Z'),
    now() {
      return this.at;
    },
  };
  const fleet = await startTestFleet(t, broker.url, { clock });
  const api = apiClient(fleet.base);
  const unit = await unitClient(t, broker.url, 'hrb-701');
  await send(unit, 'hrb-701', 'location', { seq: 1, ts: clock.at, ...DAOLI, fix: '3d' });
  await send(unit, 'hrb-701', 'power', {
    seq: 2,
    ts: clock.at,
    soc: 80,
    batteryV: 13.1,
    solarW: 5,
    windW: 1,
    loadW: 3,
    state: 'scheduled-modem',
  });
  await send(unit, 'hrb-701', 'presence', { state: 'offline', ts: clock.at, nextContactBy: clock.at + 30 * MIN });
  await waitFor(() => fleet.state.get('hrb-701')?.presence?.state === 'offline');
  const alarms = async () =>
    (await api('GET', '/api/alarms?unit=hrb-701', null)).body.alarms as {
      kind: string;
      inhibitedBy: string | null;
      ticketId: string | null;
      raisedAt: number;
      episode: string;
    }[];
  const at = async (minutes: number) => {
    clock.at = Date.parse('2026-12-01T02:00:00Z') + minutes * MIN;
    fleet.state.sweep();
    await fleet.loop.watcher.idle();
  };
  await at(29);
  assert.deepEqual(await alarms(), [], 'still inside the promised window');
  await at(31);
  const late = await alarms();
  assert.deepEqual(
    late.map((a) => [a.kind, a.raisedAt]),
    [['missed-contact', clock.at - 31 * MIN + 30 * MIN]],
    'raised at the deadline it missed',
  );
  await at(45); // past the grace (10 min): missing
  const missing = await alarms();
  const offline = missing.find((a) => a.kind === 'unit-offline');
  assert.ok(offline?.ticketId, 'an offline unit is a maintenance ticket');
  // The camera check fails after the unit went offline: explained by it, no ticket of its own.
  fleet.state.setCommissioning('hrb-701', { at: clock.at, passed: false, failed: ['camera'], pending: [] });
  await fleet.loop.watcher.idle();
  const camera = (await alarms()).find((a) => a.kind === 'camera-lost');
  assert.deepEqual([camera?.inhibitedBy, camera?.ticketId], [offline?.episode, null]);
  await send(unit, 'hrb-701', 'presence', { state: 'online', ts: clock.at });
  await waitFor(async () => (await alarms()).every((a) => a.kind === 'camera-lost'));
  const cleared = (await api('GET', '/api/alarms?unit=hrb-701&state=cleared', null)).body.alarms as { kind: string }[];
  assert.deepEqual(cleared.map((a) => a.kind).sort(), ['missed-contact', 'unit-offline']);
});

test('an alarm reaches the fleet once, on the alarm intake’s session; live state and the evidence head take it from there', async (t) => {
  const broker = await startBroker(t);
  const acks: string[] = [];
  broker.aedes.on('ack', (packet, client) => {
    if (packet && 'topic' in packet && packet.topic === topics.uplink('hrb-702', 'alarm')) acks.push(client.id);
  });
  const fleet = await startTestFleet(t, broker.url);
  await fleet.loop.intake.subscribed;
  const unit = await unitClient(t, broker.url, 'hrb-702');
  const ts = Date.now();
  await send(unit, 'hrb-702', 'power', { seq: 1, ts, soc: 40, batteryV: 12.4, solarW: 0, windW: 0, loadW: 3, state: 'full' });
  await waitFor(() => fleet.state.get('hrb-702')?.power?.soc === 40);
  const received = fleet.ingest.received;
  const head = 'ab'.repeat(32);
  await send(unit, 'hrb-702', 'alarm', {
    seq: 2,
    ts: ts + 1000,
    id: 'low-battery-1',
    kind: 'low-battery',
    severity: 'major',
    state: 'raised',
    value: 12,
    evidence: head,
  });
  await waitFor(async () => (await fleet.media.evidence.status('hrb-702', 'low-battery-1'))?.raisedHead === head);
  assert.equal(fleet.state.get('hrb-702')?.power?.soc, 12, 'live state took the low-battery alarm’s charge');
  await waitFor(() => acks.length > 0);
  assert.deepEqual(acks, [fleet.loop.intake.client.options.clientId], 'delivered to (and acknowledged by) the alarm intake alone');
  assert.equal(fleet.ingest.received, received, 'the state ingest did not receive it');
});
