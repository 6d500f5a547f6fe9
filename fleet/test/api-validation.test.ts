/**
 * The API validates as the protocol does: the protocol's own schemas (with their `scale` keyword)
 * compile, and an unknown field is refused instead of silently stripped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Alarm } from '@shouwang/protocol';
import Fastify from 'fastify';
import { AJV_OPTIONS } from '../src/api/openapi.ts';

const alarm = {
  seq: 1,
  ts: 1_764_000_000_000,
  id: 'motion-1',
  kind: 'motion',
  severity: 'major',
  state: 'raised',
  lat: 45.75,
  lon: 126.55,
};

async function echo(ajv: typeof AJV_OPTIONS | undefined) {
  const app = Fastify(ajv ? { ajv } : {});
  app.post('/echo', { schema: { body: Alarm } }, async (req) => req.body);
  await app.ready();
  return app;
}

test("the protocol's schemas compile and unknown fields are refused, not stripped", async (t) => {
  const app = await echo(AJV_OPTIONS);
  t.after(() => app.close());
  const ok = await app.inject({ method: 'POST', url: '/echo', payload: alarm });
  assert.deepEqual([ok.statusCode, ok.json()], [200, alarm]);
  const extra = await app.inject({ method: 'POST', url: '/echo', payload: { ...alarm, sneaky: true } });
  assert.equal(extra.statusCode, 400, 'the protocol refuses an unknown field, so the API does too');
});

test("Fastify's defaults disagree with the protocol (what the options fix)", async () => {
  await assert.rejects(echo(undefined), /unknown keyword: "scale"/);
});
