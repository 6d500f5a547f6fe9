import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeUplink, filters, topics } from '@shouwang/protocol';
import { connect, nextMessage, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1' }, services: { fleet: 'svc' } };

test('MQTT over TLS and over WebSocket pass through the same auth and validation', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  const gw = await startGateway(t, creds, { config: { tls: { enabled: true, certFile, keyFile }, ws: { enabled: true } } });
  assert.ok(gw.tlsPort && gw.wsPort);

  const fleet = await connect(t, `ws://127.0.0.1:${gw.wsPort}`, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.subscribeAsync(filters.allUplink('alarm'), { qos: 1 });
  const ca = await readFile(certFile);
  const unit = await connect(t, `mqtts://localhost:${gw.tlsPort}`, 'hrb-001', 'pw-1', { ca, servername: 'localhost' });
  const got = nextMessage(fleet, (tp) => tp === topics.uplink('hrb-001', 'alarm'));
  const alarm = { seq: 1, ts: 1, id: 'a1', kind: 'tamper', severity: 'critical', state: 'raised' } as const;
  await unit.publishAsync(topics.uplink('hrb-001', 'alarm'), Buffer.from(encodeUplink('alarm', alarm, 'compact')), { qos: 1 });
  assert.equal((await got).topic, topics.uplink('hrb-001', 'alarm'));
  await assert.rejects(connect(t, `ws://127.0.0.1:${gw.wsPort}`, 'hrb-001', 'wrong'), /Bad username or password/);
});
