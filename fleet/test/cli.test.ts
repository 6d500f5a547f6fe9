import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { decodeRequest, encodeResponse, filters, type Power, topics } from '@shouwang/protocol';
import { runCli } from '../src/cli/run.ts';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const T0 = 1_763_856_000_000;
const power: Power = { seq: 1, ts: T0, soc: 77, batteryV: 13.1, solarW: 10, windW: 2, loadW: 6, state: 'full' };

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s), env: {}, now: () => T0 + 12_000 });
  return { code, out, err };
}

/** A fleet with one unit that reports power, location and link and answers `ping`. */
async function system(t: TestContext) {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-001');
  await unit.subscribeAsync(filters.unitRequests('hrb-001'), { qos: 1 });
  unit.on('message', (_topic, bytes) => {
    const req = decodeRequest('ping', bytes);
    if (req.ok)
      unit.publish(
        topics.response('hrb-001', 'ping'),
        Buffer.from(encodeResponse('ping', { id: req.value.id, status: 'ok', data: { uptimeS: 3600, ts: T0 } })),
        { qos: 1 },
      );
  });
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: T0 });
  await send(unit, 'hrb-001', 'power', power);
  await send(unit, 'hrb-001', 'link', { seq: 2, ts: T0, type: 'nr', rssiDbm: -71, bars: 4 });
  await waitFor(() => fleet.state.get('hrb-001')?.link != null);
  return { api: ['--api', fleet.base], mqtt: ['--mqtt', broker.url] };
}

test('units and unit read the fleet API and print what a technician needs', async (t) => {
  const { api } = await system(t);
  const list = await cli(['units', ...api]);
  assert.equal(list.code, 0, list.err);
  const [header, row] = list.out.trim().split('\n');
  assert.match(header ?? '', /^ID\s+STATUS\s+SOC\s+TO EMPTY\s+POWER\s+LINK\s+LAST SEEN$/);
  assert.match(row ?? '', /^hrb-001\s+online\s+77%\s+\S+\s+full\s+nr 4\/5\s+\d+ (s|min|h|d) ago$/);

  const one = await cli(['unit', 'hrb-001', '--json', ...api]);
  assert.equal(one.code, 0, one.err);
  assert.equal((JSON.parse(one.out) as { power: Power }).power.soc, 77);
  const detail = await cli(['unit', 'hrb-001', ...api]);
  assert.match(detail.out, /battery\s+77%\s+13\.10 V/);
  assert.match(detail.out, /link\s+nr\s+4\/5 bars\s+-71 dBm/);

  const missing = await cli(['unit', 'hrb-404', ...api]);
  assert.equal(missing.code, 3);
  assert.match(missing.err, /404/);
});

test('command goes over MQTT and prints the unit’s answer', async (t) => {
  const { mqtt } = await system(t);
  const ping = await cli(['command', 'hrb-001', 'ping', ...mqtt]);
  assert.equal(ping.code, 0, ping.err);
  assert.deepEqual(JSON.parse(ping.out), { uptimeS: 3600, ts: T0 });
});

test('bad invocations are refused locally with a reason and exit code 2', async () => {
  const badArgs = await cli(['command', 'hrb-001', 'config-get', '--args', '{"keys":"all"}', '--mqtt', 'mqtt://127.0.0.1:1']);
  assert.equal(badArgs.code, 2);
  assert.match(badArgs.err, /--args \/keys: /);
  const unknown = await cli(['command', 'hrb-001', 'self-destruct']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown command name/);
  assert.equal((await cli(['frobnicate'])).code, 2);
  assert.equal((await cli(['--nope'])).code, 2);
  const unreachable = await cli(['units', '--api', 'http://127.0.0.1:1']);
  assert.equal(unreachable.code, 3);
  assert.match(unreachable.err, /cannot reach the fleet API at http:\/\/127\.0\.0\.1:1/);
});
