import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeUplink, topics } from '@shouwang/protocol';
import { defer, startInfluxd } from '@shouwang/testkit';
import { Journal } from '../src/ingest/journal.ts';
import { connect, metricsText, power, startGateway } from './helpers.ts';

const creds = { units: { 'hrb-001': 'pw-1', 'hrb-002': 'pw-2' }, services: {} };

test('a PUBACK means the reading is on disk; resends of the same (unit, seq) are stored once', async (t) => {
  const gw = await startGateway(t, creds);
  const unit = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const topic = topics.uplink('hrb-001', 'power');
  for (let seq = 1; seq <= 50; seq++) {
    await unit.publishAsync(topic, Buffer.from(encodeUplink('power', power(seq), seq % 2 ? 'json' : 'compact')), { qos: 1 });
    // PUBACK received: the journal must already hold it.
    assert.equal(gw.gateway.ingest.journal.count('hrb-001'), seq);
  }
  for (let seq = 41; seq <= 50; seq++) await unit.publishAsync(topic, Buffer.from(encodeUplink('power', power(seq))), { qos: 1 });
  assert.equal(gw.gateway.ingest.journal.count('hrb-001'), 50);
  assert.match(await metricsText(gw), /ingest_total\{kind="power",result="duplicate"\} 10/);
  // JSON payloads are kept as sent, compact ones re-encoded as JSON: both read back as sent.
  const stored = gw.gateway.ingest.journal.after('test', 100);
  assert.deepEqual(
    stored.map((r) => JSON.parse(r.payload)),
    Array.from({ length: 50 }, (_, i) => power(i + 1)),
  );
});

test('readings land in a real InfluxDB exactly once, at event time, even when the unit resends', async (t) => {
  const influx = await startInfluxd((fn) => defer(t, fn));
  const gw = await startGateway(t, creds, { config: { influx: { url: influx.url, database: 'shouwang' } } });
  const a = await connect(t, gw.url, 'hrb-001', 'pw-1');
  const b = await connect(t, gw.url, 'hrb-002', 'pw-2');
  for (let seq = 1; seq <= 20; seq++) {
    await a.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(seq))), { qos: 1 });
    await b.publishAsync(topics.uplink('hrb-002', 'power'), Buffer.from(encodeUplink('power', power(seq), 'compact')), { qos: 1 });
  }
  // hrb-001 lost its acks and resends the last 5: QoS 1 is at-least-once.
  for (let seq = 16; seq <= 20; seq++)
    await a.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(seq))), { qos: 1 });
  await a.publishAsync(
    topics.uplink('hrb-001', 'telemetry'),
    Buffer.from(encodeUplink('telemetry', { seq: 21, ts: 1_763_856_100_000, periodMs: 60_000, series: { tempC: [-20, -21, -22] } })),
    { qos: 1 },
  );
  const deadline = Date.now() + 15_000;
  while (gw.gateway.ingest.forwarder?.lag() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(gw.gateway.ingest.forwarder?.lag(), 0, `forwarder stuck: ${gw.gateway.ingest.forwarder?.lastError}`);
  const rows = await influx.query(`SELECT soc, seq FROM power WHERE unit = 'hrb-001'`);
  assert.equal(rows.length, 20);
  assert.deepEqual(rows[0], [1_763_856_001_000, 50.1, 1]);
  assert.equal((await influx.query(`SELECT count(soc) FROM power WHERE unit = 'hrb-002'`))[0]?.[1], 20);
  assert.deepEqual(
    (await influx.query(`SELECT tempC FROM telemetry WHERE unit = 'hrb-001'`)).map((r) => r[1]),
    [-20, -21, -22],
  );
});

test('while InfluxDB is unreachable units are still acknowledged and nothing is lost', async (t) => {
  const gw = await startGateway(t, creds, { config: { influx: { url: 'http://127.0.0.1:9', database: 'shouwang' } } });
  const a = await connect(t, gw.url, 'hrb-001', 'pw-1');
  for (let seq = 1; seq <= 10; seq++)
    await a.publishAsync(topics.uplink('hrb-001', 'power'), Buffer.from(encodeUplink('power', power(seq))), { qos: 1 });
  assert.equal(gw.gateway.ingest.journal.count(), 10);
  assert.equal(gw.gateway.ingest.forwarder?.lag(), 10);
  assert.match(await metricsText(gw), /shouwang_gateway_ingest_lag_rows 10/);
});

test('closing the journal commits what was appended in the same turn, before it went to the writer', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sw-journal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'ingest.db');
  const results: boolean[] = [];
  const journal = await Journal.open(file, (_kind, duplicate) => results.push(duplicate));
  // Not awaited: these are still waiting for the end of the turn when close() is called.
  const appended = Array.from(
    { length: 25 },
    (_, i) =>
      new Promise<void>((resolve, reject) =>
        journal.append('hrb-001', i + 1, 'power', i, JSON.stringify(power(i + 1)), (err) => (err ? reject(err) : resolve())),
      ),
  );
  await journal.close();
  await Promise.all(appended);
  assert.deepEqual(results, Array(25).fill(false));
  const again = await Journal.open(file);
  t.after(() => again.close());
  assert.equal(again.count('hrb-001'), 25);
});
