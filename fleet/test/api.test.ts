import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Power, topics } from '@shouwang/protocol';
import { send, startBroker, startTestFleet, unitClient, waitFor } from './helpers.ts';

const power = (seq: number, soc: number): Power => ({
  seq,
  ts: 1_763_856_000_000 + seq * 1000,
  soc,
  batteryV: 13.1,
  solarW: 10,
  windW: 2,
  loadW: 6,
  state: 'full',
});

interface Units {
  units: { id: string; online: boolean; power: Power | null; location: { lat: number } | null; lastSeen: number | null }[];
}

test('GET /api/units reflects presence, power, location and link from the wire', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-001');
  await send(unit, 'hrb-001', 'presence', { state: 'online', ts: 1 }, { retain: true });
  await send(unit, 'hrb-001', 'power', power(1, 77), { encoding: 'compact' });
  await send(unit, 'hrb-001', 'location', { seq: 2, ts: 2, lat: 45.75, lon: 126.63, fix: '3d' });
  await send(unit, 'hrb-001', 'link', { seq: 3, ts: 3, type: 'lte', rssiDbm: -80, bars: 4 });
  await waitFor(() => fleet.state.get('hrb-001')?.link !== null && fleet.state.get('hrb-001')?.link !== undefined);
  const body = (await (await fetch(`${fleet.base}/api/units`)).json()) as Units;
  assert.equal(body.units.length, 1);
  const u = body.units[0];
  assert.ok(u);
  assert.equal(u.id, 'hrb-001');
  assert.equal(u.online, true);
  assert.equal(u.power?.soc, 77);
  assert.equal(u.location?.lat, 45.75);
  assert.equal(typeof u.lastSeen, 'number');
  assert.equal((await fetch(`${fleet.base}/api/units/hrb-404`)).status, 404);
});

test('bad messages are counted by code and dropped; the fleet keeps serving', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-002');
  await unit.publishAsync(topics.uplink('hrb-002', 'power'), '{"seq":', { qos: 1 });
  await unit.publishAsync(topics.uplink('hrb-002', 'power'), JSON.stringify({ ...power(1, 50), soc: -3 }), { qos: 1 });
  await send(unit, 'hrb-002', 'power', power(2, 51));
  await waitFor(() => fleet.state.get('hrb-002')?.power?.soc === 51);
  const health = (await (await fetch(`${fleet.base}/api/health`)).json()) as { rejected: Record<string, number> };
  assert.deepEqual(health.rejected, { SW_ERR_ENCODING: 1, SW_ERR_SCHEMA: 1 });
});

test('Server-Sent Events carry a snapshot, then every change', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-003');
  await send(unit, 'hrb-003', 'power', power(1, 70));
  await waitFor(() => fleet.state.get('hrb-003') !== undefined);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`${fleet.base}/api/events`, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const socs: number[] = [];
  let buf = '';
  let published = false;
  while (socs.length < 2) {
    const { value } = await reader.read();
    buf += value ?? '';
    for (const m of buf.matchAll(/event: unit\ndata: (.*)\n\n/g)) socs.push((JSON.parse(m[1] as string) as { power: Power }).power.soc);
    buf = buf.slice(buf.lastIndexOf('\n\n') + 2);
    if (!published) {
      published = true;
      await send(unit, 'hrb-003', 'power', power(2, 69));
    }
  }
  assert.deepEqual(socs, [70, 69]);
});

test('GET /api/at-risk lists units forecast to run out inside the horizon; bad input is a clear 400', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const unit = await unitClient(t, broker.url, 'hrb-004');
  await send(unit, 'hrb-004', 'presence', { state: 'online', ts: 1 });
  const ts = Date.now();
  await send(unit, 'hrb-004', 'power', { ...power(1, 22), ts, timeToEmptyH: 30 });
  await waitFor(() => fleet.state.get('hrb-004')?.power?.soc === 22);
  const body = (await (await fetch(`${fleet.base}/api/at-risk`)).json()) as { horizonH: number; units: { id: string; reason: string }[] };
  assert.equal(body.horizonH, 48);
  assert.deepEqual(
    body.units.map((u) => [u.id, u.reason]),
    [['hrb-004', 'battery']],
  );
  const short = (await (await fetch(`${fleet.base}/api/at-risk?hours=12`)).json()) as { units: unknown[] };
  assert.deepEqual(short.units, []);
  const bad = await fetch(`${fleet.base}/api/at-risk?hours=-1`);
  assert.equal(bad.status, 400);
  const err = ((await bad.json()) as { error: { code: string; message: string; path: string } }).error;
  assert.equal(err.code, 'BAD_REQUEST');
  assert.equal(err.path, 'querystring/hours');
  assert.match(err.message, />= 1/);
  const view = (await (await fetch(`${fleet.base}/api/units/hrb-004`)).json()) as { liveness: { status: string } };
  assert.equal(view.liveness.status, 'online');
});
