import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeRequest, filters, topics } from '@shouwang/protocol';
import mqtt from 'mqtt';
import { connect, nextMessage, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1' }, services: { fleet: 'svc' } };

test('a QoS 1 command queued for a sleeping unit survives a gateway restart (on-disk state)', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gw-state-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));

  const first = await startGateway(t, creds, { config: { dataDir } });
  const unit = await connect(t, first.url, 'hrb-001', 'pw-1', { clean: false });
  await unit.subscribeAsync(filters.unitRequests('hrb-001'), { qos: 1 });
  await unit.endAsync();
  const fleet = await connect(t, first.url, 'fleet', 'svc', { clientId: 'fleet' });
  await fleet.publishAsync(topics.request('hrb-001', 'ping'), Buffer.from(encodeRequest('ping', { id: 'queued-1', args: {} })), { qos: 1 });
  await fleet.endAsync();
  await first.gateway.close();

  const second = await startGateway(t, creds, { config: { dataDir } });
  // Listen before connecting: the queued command may arrive in the same read as the CONNACK.
  const back = mqtt.connect(second.url, { username: 'hrb-001', password: 'pw-1', clientId: 'hrb-001', clean: false, reconnectPeriod: 0 });
  t.after(() => back.end(true));
  const got = await nextMessage(back, (tp) => tp === topics.request('hrb-001', 'ping'));
  assert.equal(JSON.parse(got.payload.toString()).id, 'queued-1');
});
