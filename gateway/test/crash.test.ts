import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { encodeUplink, topics } from '@shouwang/protocol';
import { defer, freePort, waitUntil } from '@shouwang/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { power, startGatewayProcess, writeCredentials } from './helpers.ts';

const UNITS = ['crash-1', 'crash-2', 'crash-3'];

/**
 * A unit keeping 50 readings in flight from seq `from` on, adding each acknowledged seq to
 * `acked`; resolves once its connection is gone.
 */
function publishUntilCut(url: string, unit: string, from: number, acked: Set<number>): Promise<void> {
  return new Promise((resolve) => {
    const c: MqttClient = mqtt.connect(url, { clientId: unit, username: unit, password: 'pw', reconnectPeriod: 0 });
    // The gateway is killed under it: a reset connection is expected, not a test failure.
    c.on('error', () => undefined);
    let next = from;
    const send = () => {
      if (!c.connected) return;
      const seq = next++;
      const reading = { ...power(1 + (seq % 400)), seq, ts: 1_763_856_000_000 + seq * 1000 };
      c.publish(
        topics.uplink(unit, 'power'),
        Buffer.from(encodeUplink('power', reading, seq % 2 ? 'json' : 'compact')),
        { qos: 1 },
        (err) => {
          if (err) return;
          acked.add(seq);
          send();
        },
      );
    };
    c.once('connect', () => {
      for (let i = 0; i < 50; i++) send();
    });
    c.once('close', () => {
      c.end(true);
      resolve();
    });
  });
}

test('kill -9 of the gateway mid-ingest: every acknowledged reading is in the journal after each of 3 crashes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gw-crash-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await writeCredentials(join(dir, 'credentials.json'), { units: Object.fromEntries(UNITS.map((u) => [u, 'pw'])), services: {} });
  const port = await freePort();
  const httpPort = await freePort();
  const acked = new Map(UNITS.map((u) => [u, new Set<number>()]));

  for (let crash = 1; crash <= 3; crash++) {
    const gw = await startGatewayProcess(dir, port, httpPort);
    const before = UNITS.map((u) => acked.get(u)?.size ?? 0);
    // Each unit resumes from its first seq not yet acknowledged: resends of what was in flight.
    const publishing = UNITS.map((u) => {
      const seen = acked.get(u) as Set<number>;
      let first = 1;
      while (seen.has(first)) first++;
      return publishUntilCut(`mqtt://127.0.0.1:${port}`, u, first, seen);
    });
    await waitUntil('readings acknowledged', async () => UNITS.every((u, i) => (acked.get(u)?.size ?? 0) > (before[i] ?? 0) + 200), gw);
    gw.kill('SIGKILL');
    await once(gw, 'exit');
    await Promise.all(publishing);

    const db = new DatabaseSync(join(dir, 'ingest.db'));
    try {
      assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
      for (const u of UNITS) {
        const stored = new Set((db.prepare('SELECT seq FROM readings WHERE unit = ?').all(u) as { seq: number }[]).map((r) => r.seq));
        const lost = [...(acked.get(u) as Set<number>)].filter((seq) => !stored.has(seq));
        assert.deepEqual(lost, [], `crash ${crash}: readings acknowledged to ${u} are missing from the journal`);
      }
    } finally {
      db.close();
    }
  }
});
