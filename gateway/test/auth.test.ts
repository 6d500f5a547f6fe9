import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { connect, metricsText, startGateway, waitFor, writeCredentials } from './helpers.ts';
import { connectPacket, rawSocket } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } };

test('right credentials connect; wrong password, unknown user and a spoofed client id are refused', async (t) => {
  const gw = await startGateway(t, creds);
  await connect(t, gw.url, 'hrb-001', 'pw-1');
  await connect(t, gw.url, 'fleet', 'svc', { clientId: 'fleet-1' });
  await assert.rejects(connect(t, gw.url, 'hrb-001', 'wrong'), /Bad username or password/);
  await assert.rejects(connect(t, gw.url, 'hrb-777', 'pw-1'), /Bad username or password/);
  await assert.rejects(connect(t, gw.url, 'hrb-002', 'pw-2', { clientId: 'hrb-001' }), /Identifier rejected/);
  const m = await metricsText(gw);
  assert.match(m, /shouwang_gateway_auth_failures_total\{reason="bad-credentials"\} 2/);
  assert.match(m, /shouwang_gateway_auth_failures_total\{reason="client-id-mismatch"\} 1/);
});

test('failed logins are rate-limited per source address, without running scrypt', async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { maxFailuresPerSource: 3, failureWindowS: 60, failedLoginDelayMs: 0 } } });
  for (let i = 0; i < 3; i++) await assert.rejects(connect(t, gw.url, 'hrb-001', `guess-${i}`), /Bad username or password/);
  // While the source is suspect only secrets verified before get in (login-limits.test.ts): not this one.
  await assert.rejects(connect(t, gw.url, 'hrb-001', 'pw-1'), /Server unavailable/);
  assert.match(await metricsText(gw), /reason="rate-limited"\} 1/);
});

/** [MQTT-3.1.3-8] in raw bytes: MQTT.js refuses to even send this CONNECT. */
test('an empty client id with a persistent session is refused with return code 2', async (t) => {
  const gw = await startGateway(t, creds);
  const s = await rawSocket(gw.mqttPort);
  t.after(() => s.destroy());
  s.write(connectPacket('', 'hrb-001', 'pw-1', false));
  const [connack] = (await once(s, 'data')) as [Buffer];
  assert.deepEqual([...connack.subarray(0, 4)], [0x20, 0x02, 0x00, 0x02]);
});

test('revoking a credential disconnects the unit at once; a rotated one works with the new secret only', async (t) => {
  const gw = await startGateway(t, creds);
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const other = await connect(t, gw.url, 'hrb-002', 'pw-2');
  const closed = new Promise<void>((resolve) => unit.once('close', () => resolve()));
  await writeCredentials(gw.credentialsFile, { units: { 'hrb-002': 'pw-2' }, services: { fleet: 'svc' } });
  await closed;
  assert.equal(other.connected, true, 'other units are untouched');
  await assert.rejects(connect(t, gw.url, 'hrb-001', 'pw-1'), /Bad username or password/);

  const closedOther = new Promise<void>((resolve) => other.once('close', () => resolve()));
  await writeCredentials(gw.credentialsFile, { units: { 'hrb-002': 'rotated' }, services: { fleet: 'svc' } });
  await closedOther;
  await assert.rejects(connect(t, gw.url, 'hrb-002', 'pw-2'), /Bad username or password/);
  await connect(t, gw.url, 'hrb-002', 'rotated');
});

test('a broken credentials file locks everyone out loudly instead of crashing', async (t) => {
  const gw = await startGateway(t, creds);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(gw.credentialsFile, '{ not json');
  await waitFor(async () => (await health(gw.httpPort)).credentials === 0);
  await assert.rejects(connect(t, gw.url, 'hrb-001', 'pw-1'), /Bad username or password/);
  await writeCredentials(gw.credentialsFile, creds);
  await waitFor(async () => (await health(gw.httpPort)).credentials === 3);
  await connect(t, gw.url, 'hrb-001', 'pw-1');
});

async function health(port: number): Promise<{ credentials: number }> {
  return (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.json())) as { credentials: number };
}
