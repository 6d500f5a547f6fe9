/** The loopback control plane: faults by HTTP/JSON, the truth back, power events as SSE, bad requests counted and answered. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { boardDefinition, openBoard, startSimControlServer, systemClock } from '../src/index.ts';

async function serve(t: import('node:test').TestContext) {
  const b = await openBoard(boardDefinition('zero2w'), {
    mode: 'sim',
    sim: { unitId: 'hrb-030', site: { lat: 45.75, lon: 126.63 }, scenario: 'harbin-summer', link: 'lte', clock: systemClock, seed: 30 },
  });
  t.after(() => b.close());
  const sim = b.sim;
  assert.ok(sim);
  const server = await startSimControlServer(sim);
  t.after(() => server.close());
  const post = (body: string) => fetch(`${server.url}/faults`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { sim, server, post };
}

test('faults posted as JSON act on the running simulation and show in GET /truth', async (t) => {
  const { server, post } = await serve(t);
  assert.equal(server.url.startsWith('http://127.0.0.1:'), true);
  for (const f of [
    { op: 'tamper', on: true },
    { op: 'setSignal', rssiDbm: -101 },
    { op: 'setWeather', windMps: 9, tempC: -5 },
    { op: 'move', lat: 45.8, lon: 126.7 },
  ]) {
    const res = await post(JSON.stringify(f));
    assert.deepEqual([res.status, await res.json()], [200, { ok: true }]);
  }
  const truth = (await (await fetch(`${server.url}/truth`)).json()) as {
    tamper: boolean;
    modem: { rssiDbm: number };
    weather: { windMps: number; tempC: number };
    position: { lat: number; lon: number };
  };
  assert.equal(truth.tamper, true);
  assert.equal(truth.modem.rssiDbm, -101);
  assert.ok(Math.abs(truth.weather.windMps - 9) < 0.1, 'forced, then walking on from there');
  assert.ok(Math.abs(truth.weather.tempC - -5) < 0.01);
  assert.deepEqual([truth.position.lat, truth.position.lon], [45.8, 126.7]);
});

test('a power cut is pushed to /events subscribers', async (t) => {
  const { post, server } = await serve(t);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const res = await fetch(`${server.url}/events`, { signal: ac.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read(); // the opening comment
  assert.equal((await post('{"op":"powerCut"}')).status, 200);
  const { value } = await reader.read();
  const text = new TextDecoder().decode(value);
  assert.match(text, /^event: power\ndata: \{"powered":false,"reason":"manual","time":\d+\}\n\n$/);
});

test('bad requests are refused by reason with the failing path; the server keeps serving', async (t) => {
  const { server, post } = await serve(t);
  const bad = await post('{"op":"tilt","deg":400}');
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { ok: boolean; error: { code: string; path: string } };
  assert.deepEqual([body.error.code, body.error.path], ['bad-fault', '/deg']);
  assert.equal((await post('{not json')).status, 400);
  const unknown = (await (await post('{"op":"selfDestruct"}')).json()) as { error: { path: string } };
  assert.equal(unknown.error.path, '/op');
  assert.equal((await post(JSON.stringify({ op: 'serialGarbage', port: 'gps', bytes: 'x'.repeat(20_000) }))).status, 413);
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
  assert.deepEqual({ ...server.rejected }, { 'not-found': 1, 'too-large': 1, 'bad-json': 1, 'bad-fault': 2 });
  assert.equal((await post('{"op":"tilt","deg":30}')).status, 200);
});
