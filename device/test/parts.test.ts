/**
 * The unit with parts that fail or are missing, on the simulator: a GPS port that closes, a GPS
 * that falls silent, a board without its IO plugin, and where the geofence centre comes from.
 * Silence and reopening run on the wall clock (physical latencies): gps.silentAfterS is 1 s here
 * and each wait has a deadline that fails with what was awaited.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alarm, Link, Location } from '@shouwang/protocol';
import { capture } from './log-capture.ts';
import { commission, request, startUnit, type Unit } from './unit.ts';
import { until } from './wait.ts';

const locations = (u: Unit): Location[] => u.decoded().flatMap((m) => (m.type === 'uplink' && m.kind === 'location' ? [m.payload] : []));
const links = (u: Unit): Link[] => u.decoded().flatMap((m) => (m.type === 'uplink' && m.kind === 'link' ? [m.payload] : []));
const alarms = (u: Unit): Alarm[] => u.decoded().flatMap((m) => (m.type === 'uplink' && m.kind === 'alarm' ? [m.payload] : []));
const said = (lines: Record<string, unknown>[], msg: string) => lines.find((l) => l.msg === msg);

test('a GPS port that closes is said once with its part and port, reopened with backoff, and talks again', async (t) => {
  const { log, lines } = capture('info');
  const u = await startUnit(t, { timeScale: 60, log, config: { gps: { silentAfterS: 1 } } });
  await until('3D fix', () => u.device.gps.current()?.fix === '3d', 15_000);
  u.sim.serialClose('gps');
  await until('the close is logged', () => said(lines, 'gps port closed; reopening with backoff') !== undefined, 5000);
  assert.deepEqual(
    [said(lines, 'gps port closed; reopening with backoff')?.part, said(lines, 'gps port closed; reopening with backoff')?.port],
    ['gps', '/dev/ttyAMA0'],
  );
  await until('reopened', () => u.device.ports.gps?.reopens === 1 && u.device.ports.gps.state === 'open', 5000);
  const before = u.device.gps.sentences;
  await until('sentences on the reopened port', () => u.device.gps.sentences > before + 5, 5000);
  assert.equal(u.device.gps.current()?.fix, '3d');
  assert.equal(lines.filter((l) => l.msg === 'gps port closed; reopening with backoff').length, 1);
});

test('a GPS that falls silent: no current fix, a location without position, silence in the link status and in commissioning', async (t) => {
  const { log, lines } = capture('info');
  const u = await startUnit(t, { timeScale: 60, log, config: { gps: { silentAfterS: 1 }, report: { intervalS: 60 } } });
  await until('a 3D location reported', () => locations(u).some((l) => l.fix === '3d'), 15_000);
  u.sim.gpsSilent(true);
  await until('the fix ages out', () => u.device.gps.current() === undefined, 5000);
  await until('a location without a fix', () => locations(u).some((l) => l.fix === 'none'), 10_000);
  const none = locations(u).find((l) => l.fix === 'none');
  assert.deepEqual(Object.keys(none ?? {}).sort(), ['fix', 'seq', 'ts'], 'no position, satellites, HDOP, speed or altitude');
  await until('silence logged', () => said(lines, 'gps silent on an open port; reopening it') !== undefined, 5000);
  assert.equal(said(lines, 'gps silent on an open port; reopening it')?.port, '/dev/ttyAMA0');
  await until('the link status says so', () => links(u).some((l) => l.ports?.gps.state === 'silent'), 10_000);
  const gps = (await commission(u, 'c-silent')).find((i) => i.check === 'gps');
  assert.equal(gps?.pass, false);
  assert.match(gps?.detail ?? '', /^no data on \/dev\/ttyAMA0/);
  // Silence is said once, however many times the port is reopened meanwhile, and a reopened port is not taken for a talking one.
  assert.equal(lines.filter((l) => l.msg === 'gps silent on an open port; reopening it').length, 1);
  assert.equal(said(lines, 'gps talking again'), undefined);
  u.sim.gpsSilent(false);
  await until('talking again', () => said(lines, 'gps talking again') !== undefined && u.device.ports.gps?.state === 'open', 10_000);
  await until('a current fix again', () => u.device.gps.current()?.fix === '3d', 5000);
});

test('without its IO plugin the unit still reports position and link; commissioning says why the power checks fail', async (t) => {
  const u = await startUnit(t, { timeScale: 60, config: { parts: { io: false } } });
  assert.equal(u.device.sensors, undefined);
  await until('location and link reported', () => locations(u).length > 0 && links(u).length > 0, 15_000);
  const items = await commission(u, 'c-noio');
  const battery = items.find((i) => i.check === 'battery');
  assert.match(battery?.detail ?? '', /^power monitors unavailable: not fitted on this unit/);
  assert.equal(items.find((i) => i.check === 'gps')?.pass, true);
  assert.equal(items.find((i) => i.check === 'signal')?.pass, true);
  const link = links(u).at(-1);
  assert.deepEqual([link?.ports?.gps.state, link?.ports?.modem.state], ['open', 'open']);
  const presence = u.decoded().find((m) => m.type === 'uplink' && m.kind === 'presence' && m.payload.state === 'online');
  assert.ok(presence?.type === 'uplink' && presence.kind === 'presence');
  assert.deepEqual(presence.payload.parts, { io: 'absent', camera: 'ok' }, 'the unit’s status says which part is missing');
});

test('the geofence centre is the configured deployment site, never the simulator’s position; config-set applies it live', async (t) => {
  const u = await startUnit(t, { timeScale: 60 });
  await until('3D fix', () => u.device.gps.current()?.fix === '3d', 15_000);
  u.sim.move(39.9042, 116.4074); // towed to Beijing, ~1,050 km
  const moved = u.sim.truth().time;
  // Two minutes of simulated time: four times the geofence's 30 s hold, a dozen samples.
  await until('two simulated minutes pass', () => u.sim.truth().time - moved > 120_000, 10_000);
  const geofence = () => alarms(u).filter((a) => a.kind === 'geofence' && a.state === 'raised');
  assert.equal(geofence().length, 0, 'no site configured: no geofence');
  const r = await request(u, 'config-set', 'site-1', { config: { 'site.lat': 45.7578, 'site.lon': 126.6425 } });
  assert.deepEqual(r.status === 'ok' && r.data, { applied: ['site.lat', 'site.lon'], restartRequired: false });
  await until('geofence raised against the configured site', () => geofence().length === 1, 15_000);
});

test('a modem that stops answering is reported silent in the link status and by commissioning; answering again, it is open', async (t) => {
  const { log, lines } = capture('info');
  const u = await startUnit(t, { timeScale: 60, log, config: { modem: { timeoutMs: 200 }, report: { intervalS: 60 } } });
  await until('a registered link', () => links(u).some((l) => l.registered === true), 15_000);
  u.sim.modemSilent(true);
  await until('silence logged', () => said(lines, 'modem silent on an open port; reopening it')?.port === '/dev/ttyUSB2', 10_000);
  await until('the link status says so', () => links(u).some((l) => l.ports?.modem.state === 'silent'), 10_000);
  const silent = links(u).find((l) => l.ports?.modem.state === 'silent');
  assert.equal(silent?.rssiDbm, undefined, 'no answer: signal unknown, not −150 dBm');
  assert.ok((silent?.ports?.modem.drops.timeout ?? 0) >= 3);
  const signal = (await commission(u, 'c-modem')).find((i) => i.check === 'signal');
  assert.match(signal?.detail ?? '', /^modem silent on \/dev\/ttyUSB2/);
  u.sim.modemSilent(false);
  await until('talking again', () => u.device.ports.modem?.state === 'open', 10_000);
  await until('registered again', () => links(u).at(-1)?.registered === true, 10_000);
});
