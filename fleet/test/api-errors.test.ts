/**
 * Client errors answer with a stable code and a message naming the problem, in the API's one
 * shape, on every route including unknown ones; they are logged at info without a stack, and
 * only the fleet's own failures are errors. Health says degraded while the gateway is away.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startPostgres } from '@shouwang/testkit';
import { pino } from 'pino';
import { startBroker, startTestFleet, waitFor } from './helpers.ts';

const TOKEN = 'a-bootstrap-admin-token-for-tests';

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
  code?: string;
  module?: string;
}

function capture(): { lines: LogLine[]; log: pino.Logger } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, sink) };
}

test('malformed, empty, mistyped and oversized bodies and unknown routes get coded client errors, logged without stacks', async (t) => {
  const broker = await startBroker(t);
  const { lines, log } = capture();
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: TOKEN }, log });
  const post = (body: string | Buffer, type: string | undefined) =>
    fetch(`${fleet.base}/api/registry/units`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, ...(type ? { 'content-type': type } : {}) },
      body,
    });
  const cases: [string, Promise<Response>, number, string, RegExp][] = [
    ['malformed JSON', post('{"id": "hrb-001",', 'application/json'), 400, 'BAD_JSON', /not valid JSON/],
    ['empty body', post('', 'application/json'), 400, 'EMPTY_BODY', /empty/],
    ['wrong content type', post('id=hrb-001', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE', /x-www-form-urlencoded/],
    [
      'oversized body',
      post(JSON.stringify({ id: 'hrb-001', pad: 'x'.repeat(2 * 1024 * 1024) }), 'application/json'),
      413,
      'BODY_TOO_LARGE',
      /bytes/,
    ],
    ['unknown route', fetch(`${fleet.base}/api/nope?x=1`), 404, 'NOT_FOUND', /GET \/api\/nope$/],
    ['unknown method', fetch(`${fleet.base}/api/units`, { method: 'DELETE' }), 404, 'NOT_FOUND', /DELETE \/api\/units/],
  ];
  for (const [what, res, status, code, message] of cases) {
    const r = await res;
    const body = (await r.json()) as { error?: { code: string; message: string } };
    assert.equal(r.status, status, what);
    assert.equal(body.error?.code, code, `${what}: ${JSON.stringify(body)}`);
    assert.match(body.error?.message ?? '', message, what);
  }
  await waitFor(() => lines.filter((l) => l.msg === 'request refused' || l.msg === 'no such route').length >= cases.length);
  assert.deepEqual(
    // The HTTP layer's lines only: start-up may warn about other things (a calendar running out).
    lines.filter((l) => l.module === 'http' && l.level >= 40),
    [],
    'client errors are not warnings or errors',
  );
  assert.ok(
    lines.every((l) => l.err === undefined),
    'no stack traces for client errors',
  );
});

test('health is degraded (503) while the fleet has no session with the gateway', async (t) => {
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url);
  const health = async () => {
    const r = await fetch(`${fleet.base}/api/health`);
    return { status: r.status, body: (await r.json()) as { status: string; mqtt: string } };
  };
  const up = await health();
  assert.deepEqual([up.status, up.body.status, up.body.mqtt], [200, 'ok', 'connected']);
  // The fleet's connection dies and it is not let back soon: for the fleet the gateway is down.
  fleet.ingest.client.options.reconnectPeriod = 60_000;
  fleet.ingest.client.stream.destroy();
  await waitFor(() => !fleet.ingest.client.connected);
  const down = await health();
  assert.equal(down.status, 503);
  assert.equal(down.body.status, 'degraded');
  assert.equal(down.body.mqtt, 'disconnected');
});

test('health is degraded (503) while the database does not answer', async (t) => {
  const broker = await startBroker(t);
  // The server's own stop is taken out of the cleanup list to be run mid-test.
  const cleanups: (() => Promise<unknown>)[] = [];
  const pg = await startPostgres((fn) => cleanups.push(fn));
  t.after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  const fleet = await startTestFleet(t, broker.url, { storageUrl: pg.url });
  const health = async () => {
    const r = await fetch(`${fleet.base}/api/health`);
    return { status: r.status, body: (await r.json()) as { status: string; storage: string } };
  };
  const up = await health();
  assert.deepEqual([up.status, up.body.status, up.body.storage], [200, 'ok', 'ok']);
  const stopServer = cleanups[1];
  assert.ok(stopServer);
  await stopServer();
  const down = await health();
  assert.deepEqual([down.status, down.body.status, down.body.storage], [503, 'degraded', 'unreachable']);
});
