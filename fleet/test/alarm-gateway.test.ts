/**
 * An intrusion from a provisioned unit through the real gateway process (credentials, ACLs,
 * validation at the edge, journal) to one ticket, with the fleet restarted between the unit's
 * repeats: the gateway keeps the fleet's alarm session meanwhile.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { DAOLI, intrusion } from './alarm-helpers.ts';
import { startGateway } from './gateway-helper.ts';
import { apiClient, send, startTestFleet, tempDir, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-gateway-alarm-test';

test('through the real gateway: one intrusion, repeated across a fleet restart, is one ticket in its cell', async (t) => {
  const dir = await tempDir(t);
  const { mqttUrl, credentialsFile, fleetPassword } = await startGateway(t, dir);
  const opts = {
    dataDir: join(dir, 'fleet'),
    instanceId: 'gw',
    mqtt: { username: 'fleet', password: fleetPassword },
    auth: { bootstrapAdminToken: ADMIN },
    registry: { credentialsFile },
  };
  let fleet = await startTestFleet(t, mqttUrl, opts);
  const api = () => apiClient(fleet.base);
  const code = (await api()('POST', '/api/registry/units', ADMIN, { id: 'hrb-801' })).body.claimCode as string;
  const password = (await api()('POST', '/api/claim', ADMIN, { code, site: DAOLI })).body.password as string;
  let unit: mqtt.MqttClient | undefined;
  await waitFor(async () => {
    unit = await mqtt
      .connectAsync(mqttUrl, { clientId: 'hrb-801', username: 'hrb-801', password, reconnectPeriod: 0 })
      .catch(() => undefined);
    return unit !== undefined;
  }, 10_000);
  t.after(() => unit?.end(true));
  const u = unit as mqtt.MqttClient;
  await send(u, 'hrb-801', 'alarm', intrusion(1, 'motion-1'));
  await waitFor(async () => ((await api()('GET', '/api/tickets', ADMIN)).body.tickets as unknown[]).length === 1, 10_000);
  await fleet.close();
  await send(u, 'hrb-801', 'alarm', intrusion(2, 'motion-1'));
  fleet = await startTestFleet(t, mqttUrl, opts);
  await waitFor(() => fleet.loop.alarms.counts.taken === 1, 10_000);
  const tickets = (await api()('GET', '/api/tickets', ADMIN)).body.tickets as {
    alarmCount: number;
    grid: { cell: string };
    department: string;
  }[];
  assert.equal(tickets.length, 1);
  assert.equal(tickets[0]?.alarmCount, 2);
  assert.equal(tickets[0]?.grid.cell, fleet.loop.grid.cellAt(DAOLI.lat, DAOLI.lon));
  assert.equal(tickets[0]?.department, 'Daoli 道里 public security sub-bureau');
});
