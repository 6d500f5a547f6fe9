/**
 * The whole agent process (drivers, sampling, outbox, uplink) killed with SIGKILL — a power cut
 * as far as the software can tell — twenty times while it writes hard, with the gateway
 * sometimes unreachable so a backlog builds. Afterwards every seq the outbox ever issued is
 * either at the broker or still queued: nothing accepted was lost, however the cut fell
 * between the enqueue, the publish, the PUBACK and the ack commit.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { decodeMessage } from '@shouwang/protocol';
import { AGENT_MAIN, forkAgent } from './agent-process.ts';
import { startBroker } from './broker.ts';

function startAgent(url: string, dataDir: string): Promise<ChildProcess> {
  return forkAgent(AGENT_MAIN, {
    unitId: 'hrb-001',
    url,
    dataDir,
    env: {
      // An hour of unit time a second, status re-sent every unit minute: hundreds of outbox writes a second.
      SHOUWANG_DEVICE_SIM_TIME_SCALE: '3600',
      SHOUWANG_DEVICE_REPORT_INTERVAL_S: '1',
      SHOUWANG_DEVICE_REPORT_HEARTBEAT_S: '60',
      SHOUWANG_DEVICE_REPORT_TELEMETRY_BATCH: '1',
    },
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('20 × kill -9 of the running agent: every seq it accepted reaches the broker or is still queued', { timeout: 240_000 }, async (t) => {
  const broker = await startBroker(t);
  const dir = await mkdtemp(join(tmpdir(), 'sw-agent-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (let run = 0; run < 20; run++) {
    // Every third run the gateway is gone: the agent writes into a growing backlog.
    if (run % 3 === 1) await broker.cut();
    const agent = await startAgent(broker.url, dir);
    await sleep(300 + ((run * 211) % 900));
    await kill9(agent);
    if (run % 3 === 1) await broker.restore();
  }
  // One last clean run drains what it can, then stops in order.
  const last = await startAgent(broker.url, dir);
  await sleep(2000);
  const stopped = new Promise((r) => last.once('exit', r));
  last.kill('SIGTERM');
  await stopped;

  const db = new DatabaseSync(join(dir, 'outbox.db'), { readOnly: true });
  t.after(() => db.close());
  assert.equal((db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check, 'ok');
  const issued = (db.prepare("SELECT value FROM meta WHERE key = 'seq'").get() as { value: number }).value;
  const queued = new Set((db.prepare('SELECT seq FROM outbox').all() as { seq: number }[]).map((r) => r.seq));
  const delivered = new Map<number, string>();
  for (const r of broker.received) {
    const m = decodeMessage(r.topic, r.payload);
    assert.ok(m.ok, `the broker got something undecodable on ${r.topic}`);
    if (!('seq' in m.value.payload)) continue;
    const seq = m.value.payload.seq as number;
    const body = JSON.stringify(m.value);
    // A resend after a cut is the same message again, never a different one under a reused seq.
    assert.ok(!delivered.has(seq) || delivered.get(seq) === body, `seq ${seq} reused for a different message`);
    delivered.set(seq, body);
  }
  t.diagnostic(`${issued + 1} messages issued, ${delivered.size} at the broker, ${queued.size} still queued`);
  assert.ok(issued > 500, `only ${issued + 1} messages written: not a heavy-write test`);
  const lost: number[] = [];
  for (let s = 0; s <= issued; s++) if (!delivered.has(s) && !queued.has(s)) lost.push(s);
  assert.deepEqual(lost, [], `${lost.length} of ${issued + 1} accepted messages lost`);
});
