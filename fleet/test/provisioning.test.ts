/**
 * Provisioning end to end against the real gateway process (spawned from gateway/src/main.ts, met
 * only on the wire and through the credentials file): claim by code, the unit connects with its
 * own secret, revocation ends its session at once and it cannot log in again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { startGateway } from './gateway-helper.ts';
import { apiClient, send, startTestFleet, tempDir, waitFor } from './helpers.ts';

const ADMIN = 'admin-token-for-tests';

/** Resolves with the connected client, or with the reason it could not connect (never hangs on a refusal). */
function tryConnect(url: string, password: string): Promise<mqtt.MqttClient | Error> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: 'hrb-100', username: 'hrb-100', password, reconnectPeriod: 0, connectTimeout: 2000 });
    c.once('connect', () => resolve(c));
    const fail = (e?: Error) => {
      c.end(true);
      resolve(e ?? new Error('closed before CONNACK'));
    };
    c.once('error', fail);
    c.once('close', () => fail());
  });
}

test('claim by code, connect with the issued secret, revoke: the gateway ends the session and refuses the unit', async (t) => {
  const dir = await tempDir(t);
  const { mqttUrl, credentialsFile, fleetPassword } = await startGateway(t, dir);
  const fleet = await startTestFleet(t, mqttUrl, {
    mqtt: { username: 'fleet', password: fleetPassword },
    auth: { bootstrapAdminToken: ADMIN },
    registry: { credentialsFile },
  });
  const api = apiClient(fleet.base);

  // Roles: with an admin token configured, nothing is served without a token.
  assert.equal((await api('GET', '/api/units', null)).status, 401);
  assert.equal((await api('GET', '/api/units', 'wrong')).status, 401);
  const tech = await api('POST', '/api/tokens', ADMIN, { role: 'technician', name: 'Li on site' });
  assert.equal(tech.status, 201);
  const techToken = tech.body.token as string;
  assert.equal((await api('POST', '/api/registry/units', techToken, { id: 'hrb-100' })).status, 403);

  // A maintainer registers the unit; the technician on site claims it.
  const reg = await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-100', board: 'pi4', tags: ['bridge'] });
  assert.equal(reg.status, 201);
  const code = reg.body.claimCode as string;
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  assert.equal((await api('POST', '/api/registry/units', ADMIN, { id: 'hrb-100' })).status, 409);
  const site = { name: 'Daoli flood wall', lat: 45.7792, lon: 126.6183 };
  const claim = await api('POST', '/api/claim', techToken, { code: code.toLowerCase(), site, gridCell: 'DL-0417' });
  assert.equal(claim.status, 201);
  assert.equal(claim.body.username, 'hrb-100');
  const again = await api('POST', '/api/claim', techToken, { code, site });
  assert.deepEqual([again.status, (again.body.error as { code: string }).code], [403, 'CLAIM_REJECTED']);
  const registered = await api('GET', '/api/registry/units/hrb-100', techToken);
  assert.equal(registered.body.status, 'active');
  assert.equal(registered.body.gridCell, 'DL-0417');

  // The unit connects with its own secret once the gateway has reloaded the file.
  const password = claim.body.password as string;
  const connected: mqtt.MqttClient[] = [];
  await waitFor(async () => {
    const c = await tryConnect(mqttUrl, password);
    if (c instanceof Error) return false;
    connected.push(c);
    return true;
  });
  const unit = connected[0];
  assert.ok(unit);
  await send(unit, 'hrb-100', 'presence', { state: 'online', ts: Date.now() }, { retain: true });
  await waitFor(() => fleet.state.get('hrb-100')?.online === true);
  assert.deepEqual(fleet.state.get('hrb-100')?.outlook.location.deployment, { lat: site.lat, lon: site.lon });

  // Its SIM plan: a maintainer sets the monthly budget; the live view holds usage against it.
  const budget = await api('PATCH', '/api/registry/units/hrb-100', ADMIN, { dataBudgetBytes: 5_000_000 });
  assert.deepEqual([budget.status, budget.body.dataBudgetBytes], [200, 5_000_000]);
  assert.equal(fleet.state.get('hrb-100')?.outlook.link.budgetBytes, 5_000_000);
  assert.equal((await api('PATCH', '/api/registry/units/hrb-100', ADMIN, { dataBudgetBytes: -1 })).status, 400);

  // Revocation: the session ends at once and the secret no longer opens the door.
  const closed = new Promise<void>((r) => unit.once('close', () => r()));
  assert.equal((await api('POST', '/api/registry/units/hrb-100/revoke', ADMIN)).body.status, 'revoked');
  await closed;
  unit.end(true);
  const refused = await tryConnect(mqttUrl, password);
  assert.ok(refused instanceof Error, 'a revoked unit is refused');
  assert.match(refused.message, /Bad username or password|Not authorized/i);

  // The API documents itself.
  const doc = await api('GET', '/api/openapi.json', null);
  const paths = doc.body.paths as Record<string, Record<string, { 'x-action'?: string }>>;
  assert.equal(paths['/api/claim']?.post?.['x-action'], 'claim');
  assert.ok(paths['/api/units/{id}/history/power']?.get);
  assert.equal(paths['/api/units/{id}/commands/commission']?.post?.['x-action'], 'command');
  assert.equal(paths['/api/units/{id}/commands/reboot']?.post?.['x-action'], 'manage-units');
  assert.ok(paths['/api/units/{id}/commissioning']?.get);
});
