/**
 * The palette as Node-RED itself installs it: a real runtime finds the package in its user dir's
 * node_modules by the `node-red` section, loads each node file through its own loader, and serves
 * each node's editor definition with its help text.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const TYPES = [
  'shouwang-fleet',
  'shouwang ticket in',
  'shouwang ticket update',
  'shouwang alarm in',
  'shouwang unit command',
  'shouwang deliver',
  'shouwang open311 status',
];

test('Node-RED loads the palette from its package and serves every node with help text', async (t) => {
  const userDir = await mkdtemp(join(tmpdir(), 'flows-nr-'));
  t.after(() => rm(userDir, { recursive: true, force: true }));
  await mkdir(join(userDir, 'node_modules', '@shouwang'), { recursive: true });
  await symlink(fileURLToPath(new URL('..', import.meta.url)), join(userDir, 'node_modules', '@shouwang', 'node-red-shouwang'));
  const RED = createRequire(import.meta.url)('node-red') as {
    init(server: http.Server, settings: object): void;
    start(): Promise<void>;
    stop(): Promise<void>;
    nodes: { getNodeList(): { module: string; types: string[]; err?: unknown }[] };
    httpAdmin: http.RequestListener;
  };
  const server = http.createServer();
  RED.init(server, { userDir, httpAdminRoot: '/', credentialSecret: 'test-secret', logging: { console: { level: 'off' } } });
  // Embedded, Node-RED's editor app is ours to mount (its own server, not an Express 5 host).
  server.on('request', RED.httpAdmin);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  await RED.start();
  t.after(async () => {
    await RED.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const sets = RED.nodes.getNodeList().filter((n) => n.module === '@shouwang/node-red-shouwang');
  assert.deepEqual(
    sets.map((n) => n.err ?? null),
    TYPES.map(() => null),
    'no node file failed to load',
  );
  assert.deepEqual(sets.flatMap((n) => n.types).sort(), [...TYPES].sort());
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/nodes`, { headers: { accept: 'text/html' } });
  const html = await res.text();
  for (const type of TYPES) {
    assert.ok(html.includes(`data-template-name="${type}"`), `${type}: editor form`);
    assert.ok(html.includes(`data-help-name="${type}"`), `${type}: help text`);
  }
});
