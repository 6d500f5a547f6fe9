/**
 * Login limits per (identity, source) and per source: guessing is bounded, a valid credential is
 * not locked out by anyone else's failures, and a refused login takes the same time whatever the
 * account kind. Return codes are read from raw CONNACKs: 0 accepted, 3 refused unchecked (rate
 * limited), 4 bad username or password.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricsText, startGateway } from './helpers.ts';
import { login } from './raw.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2', 'hrb-003': 'pw-3' }, services: { fleet: 'svc' } };
const fast = { failedLoginDelayMs: 0 };

test("one identity's successful login does not reset another identity's failures: guessing stays bounded", async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { ...fast, maxFailuresPerIdentity: 3, maxFailuresPerSource: 1000 } } });
  // The thief holds hrb-001's credential and guesses at hrb-002's, logging in between guesses.
  const codes: (number | 'closed')[] = [];
  for (let i = 0; i < 15; i++) {
    assert.equal(await login(gw.mqttPort, 'hrb-001', 'pw-1'), 0);
    codes.push(await login(gw.mqttPort, 'hrb-002', `guess-${i}`));
  }
  assert.deepEqual(codes.slice(0, 3), [4, 4, 4], 'the first guesses are checked');
  assert.deepEqual(codes.slice(3), Array(12).fill(3), 'the rest are refused unchecked');
  assert.match(await metricsText(gw), /auth_failures_total\{reason="rate-limited"\} 12/);
});

test('failures from one address do not lock out the valid units behind it (a carrier NAT)', async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { ...fast, maxFailuresPerIdentity: 3, maxFailuresPerSource: 5 } } });
  assert.equal(await login(gw.mqttPort, 'hrb-001', 'pw-1'), 0);
  assert.equal(await login(gw.mqttPort, 'fleet', 'svc'), 0);
  // A neighbour behind the same address guesses at names and passwords.
  for (let i = 0; i < 10; i++) await login(gw.mqttPort, `hrb-9${i}0`, 'guess');
  await login(gw.mqttPort, 'hrb-002', 'guess');
  // Units that logged in before still get in, again and again; no scrypt is spent on the rest.
  for (let i = 0; i < 5; i++) {
    assert.equal(await login(gw.mqttPort, 'hrb-001', 'pw-1'), 0);
    assert.equal(await login(gw.mqttPort, 'fleet', 'svc'), 0);
  }
  assert.equal(await login(gw.mqttPort, 'hrb-003', 'guess'), 3);
  // The same units from another address are untouched, a first login included.
  assert.equal(await login(gw.mqttPort, 'hrb-003', 'pw-3', '127.0.0.2'), 0);
});

test('an identity held to its cached secret from one address is checked normally from another', async (t) => {
  const gw = await startGateway(t, creds, { config: { auth: { ...fast, maxFailuresPerIdentity: 2, maxFailuresPerSource: 1000 } } });
  assert.equal(await login(gw.mqttPort, 'hrb-002', 'pw-2'), 0);
  for (let i = 0; i < 4; i++) await login(gw.mqttPort, 'hrb-002', `guess-${i}`);
  assert.equal(await login(gw.mqttPort, 'hrb-002', 'another-guess'), 3);
  assert.equal(await login(gw.mqttPort, 'hrb-002', 'pw-2'), 0, 'its own valid credential still gets in');
  assert.equal(await login(gw.mqttPort, 'hrb-002', 'guess', '127.0.0.3'), 4, 'checked from elsewhere');
});

test('a refused login takes the same time whatever the account: unknown name, unit, service, or rate-limited', async (t) => {
  const delay = 300;
  const gw = await startGateway(t, creds, { config: { auth: { failedLoginDelayMs: delay, maxFailuresPerIdentity: 1 } } });
  const timed = async (id: string, pw: string, from: string) => {
    const start = performance.now();
    const code = await login(gw.mqttPort, id, pw, from);
    return { code, ms: performance.now() - start };
  };
  const cases = [
    await timed('hrb-777', 'x', '127.0.0.4'), // unknown: nothing to check
    await timed('hrb-001', 'x', '127.0.0.5'), // unit: scrypt at the unit cost
    await timed('fleet', 'x', '127.0.0.6'), // service
    await timed('fleet', 'x', '127.0.0.6'), // now rate-limited: refused unchecked
  ];
  assert.deepEqual(
    cases.map((c) => c.code),
    [4, 4, 4, 3],
  );
  for (const c of cases) assert.ok(c.ms >= delay - 5, `refused after ${c.ms.toFixed(1)} ms, before the ${delay} ms floor`);
  const ok = await timed('hrb-001', 'pw-1', '127.0.0.7');
  assert.equal(ok.code, 0);
});
