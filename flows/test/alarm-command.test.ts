/**
 * `shouwang alarm in` and `shouwang unit command` in a real Node-RED runtime
 * (node-red-node-test-helper) on a real broker: alarms decoded with the protocol (a refused one
 * counted, never passed on), and a command answered by a real device agent on the hardware
 * simulator, with bad input and silence ending in done(err), what a Catch node sees.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, type TestContext, test } from 'node:test';
import { type Alarm, encodeUplink, topics } from '@shouwang/protocol';
import { defer } from '@shouwang/testkit';
import mqtt from 'mqtt';
import helper from 'node-red-node-test-helper';
import alarmIn from '../src/alarm-in.ts';
import fleetNode from '../src/fleet-node.ts';
import unitCommand from '../src/unit-command.ts';
import { startBroker, startUnit, waitFor } from './support.ts';

helper.init(createRequire(import.meta.url).resolve('node-red'));

before(() => helper.startServer());
after(() => helper.stopServer());

interface Got {
  payload: unknown;
  unitId?: string;
  topic?: string;
}

async function load(t: TestContext, mqttUrl: string, node: unknown, flow: object[]) {
  await helper.load(
    [fleetNode, node],
    [{ id: 'f1', type: 'shouwang-fleet', url: 'http://127.0.0.1:1', mqttUrl }, ...flow, { id: 'out', type: 'helper' }],
    { f1: { mqttUser: 'flows', mqttPassword: 'secret' } },
  );
  t.after(() => helper.unload());
  const got: Got[] = [];
  helper.getNode('out').on('input', (msg: Got) => got.push(msg));
  return got;
}

function calls(id: string, method: 'error' | 'warn' | 'status'): string[] {
  const seen: string[] = [];
  helper.getNode(id).on(`call:${method}`, (c: { args: unknown[] }) => {
    const a = c.args[0];
    seen.push(typeof a === 'object' && a !== null && 'text' in a ? String((a as { text: unknown }).text) : String(a));
  });
  return seen;
}

test('alarm in passes each alarm decoded with its unit; a payload the protocol refuses is counted and not passed on', async (t) => {
  const mqttUrl = await startBroker(t);
  const got = await load(t, mqttUrl, alarmIn, [
    { id: 'in', type: 'shouwang alarm in', fleet: 'f1', minSeverity: 'major', wires: [['out']] },
  ]);
  const warnings = calls('in', 'warn');
  const statuses = calls('in', 'status');
  await waitFor('the subscription', () => statuses.find((s) => s.startsWith('0 alarms')));
  const unit = await mqtt.connectAsync(mqttUrl, { clientId: 'hrb-811' });
  defer(t, () => unit.endAsync(true));
  const alarm = (seq: number, severity: Alarm['severity']): Alarm => ({
    seq,
    ts: Date.now(),
    id: `hrb-811-tilt-${seq}`,
    kind: 'tilt',
    severity,
    state: 'raised',
  });
  await unit.publishAsync(topics.uplink('hrb-811', 'alarm'), Buffer.from('{"seq":"x"}'), { qos: 1 });
  await unit.publishAsync(topics.uplink('hrb-811', 'alarm'), Buffer.from(encodeUplink('alarm', alarm(2, 'minor'))), { qos: 1 });
  await unit.publishAsync(topics.uplink('hrb-811', 'alarm'), Buffer.from(encodeUplink('alarm', alarm(3, 'critical'))), { qos: 1 });
  await waitFor('the critical alarm', () => got.length >= 1 || undefined);
  assert.deepEqual(
    got.map((m) => [m.unitId, m.topic, (m.payload as Alarm).seq]),
    [['hrb-811', 'tilt', 3]],
    'the refused and the too-minor alarm are not passed on',
  );
  await waitFor('the refusal on the status', () => statuses.find((s) => s.includes('1 refused')));
  assert.match(warnings.join('\n'), /refused alarm on sw\/v1\/hrb-811\/alarm: SW_ERR_SCHEMA at \/ts: Expected required property/);
});

test('unit command sends a ping to a simulated unit and passes its answer on; bad input and silence end in errors', async (t) => {
  const mqttUrl = await startBroker(t);
  // The unit's first presence says its session is up: a request before that would find no one.
  const watcher = await mqtt.connectAsync(mqttUrl);
  defer(t, () => watcher.endAsync(true));
  await watcher.subscribeAsync(topics.uplink('hrb-812', 'presence'), { qos: 1 });
  const online = new Promise((r) => watcher.once('message', r));
  await startUnit(t, mqttUrl, 'hrb-812');
  await online;
  const got = await load(t, mqttUrl, unitCommand, [
    { id: 'cmd', type: 'shouwang unit command', fleet: 'f1', command: '', unitId: '', timeoutS: 1, wires: [['out']] },
  ]);
  const errors = calls('cmd', 'error');
  const send = (msg: object) => helper.getNode('cmd').receive(msg);

  send({ unitId: 'hrb-812', command: 'ping', payload: {} });
  await waitFor('the unit answer', () => got.length >= 1 || undefined);
  const data = got[0]?.payload as { uptimeS: number; ts: number };
  assert.equal(typeof data.uptimeS, 'number');
  assert.equal(got[0]?.unitId, 'hrb-812');

  send({ unitId: 'hrb-812', command: 'config-get', payload: { keys: 'all' } });
  await waitFor('the args refusal', () => errors.find((e) => e.includes('config-get args') && e.includes('/keys')));
  send({ unitId: 'HRB 812', command: 'ping', payload: {} });
  await waitFor('the unit id refusal', () => errors.find((e) => e.includes('not a unit id')));
  send({ unitId: 'hrb-812', command: 'self-destruct', payload: {} });
  await waitFor('the command refusal', () => errors.find((e) => e.includes('not a command')));
  // At once: hrb-812's answer is its own request's (the correlation id), never the silent unit's.
  send({ unitId: 'hrb-899', command: 'ping', payload: {} });
  send({ unitId: 'hrb-812', command: 'ping', payload: {} });
  await waitFor('the time-out', () => errors.find((e) => e.includes('hrb-899 did not answer ping within 1 s')), 5000);
  assert.deepEqual(
    got.map((m) => m.unitId),
    ['hrb-812', 'hrb-812'],
    'nothing passed on for the refused and unanswered commands',
  );
});
