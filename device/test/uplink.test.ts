/**
 * Outbox + uplink against a real Aedes broker: an outage loses nothing and drains in priority and
 * per-stream order; a wrong password is refused, logged and retried with capped backoff; the
 * satellite profile carries only alarms and compact status inside its daily budget.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import { decodeMessage, sniffEncoding } from '@shouwang/protocol';
import { pino } from 'pino';
import { linkPolicy } from '../src/domain/upload-policy.ts';
import { connectMqtt } from '../src/services/mqtt-connect.ts';
import { Outbox } from '../src/services/outbox.ts';
import { Uplink } from '../src/services/uplink.ts';
import { startBroker } from './broker.ts';
import { capture } from './log-capture.ts';
import { until } from './wait.ts';

const UNIT = 'hrb-001';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sw-device-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function power(ts: number) {
  return { ts, soc: 80, batteryV: 13.1, solarW: 20, windW: 3, loadW: 5, state: 'full' as const };
}

function makeUplink(t: TestContext, url: string, outbox: Outbox, extra: Partial<ConstructorParameters<typeof Uplink>[0]> = {}): Uplink {
  const up = new Uplink({
    unitId: UNIT,
    url,
    password: 'pw',
    keepaliveS: 30,
    clock: systemClock,
    outbox,
    log: pino({ level: 'silent' }),
    policy: () => linkPolicy({ link: 'lte', powerState: 'full', satelliteBudgetBytes: 0, compactOnCellular: false }),
    presence: () => ({ board: 'pi4' }),
    backoff: { baseMs: 20, capMs: 200 },
    connect: connectMqtt,
    ...extra,
  });
  up.start();
  // After-hooks run in registration order; the outbox (registered earlier) must outlive the uplink.
  t.after(async () => {
    await up.close();
    outbox.close();
  });
  return up;
}

test('a 10-minute broker outage loses nothing and drains alarms first, each stream in order', async (t) => {
  const broker = await startBroker(t, { password: 'pw' });
  const outbox = Outbox.open(join(await tempDir(t), 'outbox.db'), { quotaBytes: 10_000_000 });
  const up = makeUplink(t, broker.url, outbox);
  await until('connected', () => up.connected);

  const t0 = Date.UTC(2026, 0, 10, 8);
  outbox.enqueue('power', power(t0));
  up.kick();
  await until('first reading acked', () => outbox.size().count === 0);

  await broker.cut();
  await until('uplink notices the outage', () => !up.connected);
  // Ten minutes of readings at one per second on the unit's clock, with three alarms among them.
  const accepted: { kind: string; seq: number }[] = [];
  for (let s = 1; s <= 600; s++) {
    const ts = t0 + s * 1000;
    accepted.push({ kind: 'power', seq: outbox.enqueue('power', power(ts)).seq });
    if (s % 10 === 0) accepted.push({ kind: 'event', seq: outbox.enqueue('event', { ts, kind: 'fault', reason: `tick ${s}` }).seq });
    if (s % 200 === 0) {
      const a = outbox.enqueue('alarm', { ts, id: `tilt-${s}`, kind: 'tilt', severity: 'major', state: 'raised' });
      accepted.push({ kind: 'alarm', seq: a.seq });
    }
    up.kick();
  }
  assert.equal(outbox.size().count, 600 + 60 + 3);
  const before = broker.received.length;
  await broker.restore();
  await until('backlog drained', () => outbox.size().count === 0, 20_000);

  const after = broker.received.slice(before).filter((r) => !r.topic.endsWith('/presence'));
  const decoded = after.map((r) => {
    const m = decodeMessage(r.topic, r.payload);
    assert.ok(m.ok && m.value.type === 'uplink', JSON.stringify(m));
    return { kind: m.value.kind, seq: (m.value.payload as { seq: number }).seq };
  });
  // At-least-once: duplicates are allowed (dedupe is by seq), losses are not.
  const got = new Set(decoded.map((d) => d.seq));
  for (const a of accepted) assert.ok(got.has(a.seq), `seq ${a.seq} (${a.kind}) lost`);
  // Alarms first, then events, then status: priority classes.
  const firstOf = (k: string) => decoded.findIndex((d) => d.kind === k);
  assert.ok(
    firstOf('alarm') < firstOf('event') && firstOf('event') < firstOf('power'),
    decoded
      .slice(0, 5)
      .map((d) => d.kind)
      .join(),
  );
  for (const kind of ['alarm', 'event', 'power']) {
    const seqs = decoded.filter((d) => d.kind === kind).map((d) => d.seq);
    const firstSeen = seqs.filter((s, i) => seqs.indexOf(s) === i);
    assert.deepEqual(
      firstSeen,
      [...firstSeen].sort((a, b) => a - b),
      `${kind} stream in order`,
    );
  }
});

test('seq stays monotonic across reopen: a restarted agent never reuses one', async (t) => {
  const path = join(await tempDir(t), 'outbox.db');
  const a = Outbox.open(path, { quotaBytes: 1e6 });
  const s1 = a.enqueue('power', power(1)).seq;
  a.ack([1]);
  const s2 = a.takeSeq();
  a.close();
  const b = Outbox.open(path, { quotaBytes: 1e6 });
  t.after(() => b.close());
  assert.deepEqual([s1, s2, b.enqueue('power', power(2)).seq], [0, 1, 2]);
});

test('over quota, old telemetry and status are thinned first; alarms and events never', (t) => {
  const thinned: Record<string, number> = {};
  const outbox = Outbox.open(':memory:', {
    quotaBytes: 40_000,
    onThinned: (r) => {
      for (const [k, n] of Object.entries(r.byKind)) thinned[k] = (thinned[k] ?? 0) + (n ?? 0);
    },
  });
  t.after(() => outbox.close());
  for (let i = 0; i < 1000; i++) {
    outbox.enqueue('power', power(i * 1000));
    if (i % 100 === 0) outbox.enqueue('alarm', { ts: i * 1000, id: `a-${i}`, kind: 'tamper', severity: 'critical', state: 'raised' });
    if (i % 50 === 0) outbox.enqueue('event', { ts: i * 1000, kind: 'boot' });
  }
  assert.ok((thinned.power ?? 0) > 0 && thinned.alarm === undefined && thinned.event === undefined, JSON.stringify(thinned));
  assert.ok(outbox.backlogBytes() <= 40_000 * (1 + 1 / 16));
  const rows = outbox.next(10_000);
  assert.equal(rows.filter((x) => x.kind === 'alarm').length, 10);
  assert.equal(rows.filter((x) => x.kind === 'event').length, 20);
  const ts = rows.filter((x) => x.kind === 'power').map((x) => x.payload.ts);
  // The survivors still span the whole backlog, the oldest coarser than the newest.
  assert.ok((ts[0] ?? Infinity) <= 1000 && (ts.at(-1) ?? 0) === 999_000, `${ts[0]}…${ts.at(-1)}`);
  const gap = (a: number, b: number) => ((ts[b] ?? 0) - (ts[a] ?? 0)) / (b - a);
  assert.ok(gap(0, 10) > gap(ts.length - 11, ts.length - 1), 'old data coarser than new');
  assert.equal(gap(ts.length - 11, ts.length - 1), 1000, 'the newest at full resolution');
});

test('a wrong password is refused, logged plainly, and retried with capped backoff', async (t) => {
  const broker = await startBroker(t, { password: 'right' });
  const outbox = Outbox.open(':memory:', { quotaBytes: 1e6 });
  const { log, lines } = capture();
  const up = makeUplink(t, broker.url, outbox, { password: 'wrong', log, backoff: { baseMs: 5, capMs: 40 } });
  await until('refused several times', () => up.stats.refused >= 6);
  assert.equal(up.connected, false);
  const refusals = lines.filter((l) => l.msg === 'gateway refused the connection; check this unit’s MQTT password');
  assert.ok(refusals.length >= 6);
  assert.equal(refusals[0]?.code, 4);
  const delays = lines.filter((l) => l.msg === 'reconnect scheduled').map((l) => l.delayMs as number);
  assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 40]);
});

test('satellite profile: only alarms and compact status, within the daily budget', async (t) => {
  const broker = await startBroker(t);
  const outbox = Outbox.open(':memory:', { quotaBytes: 1e7 });
  const budget = 2000;
  const up = makeUplink(t, broker.url, outbox, {
    policy: () => linkPolicy({ link: 'satellite', powerState: 'full', satelliteBudgetBytes: budget, compactOnCellular: false }),
  });
  await until('connected', () => up.connected);
  const t0 = Date.now();
  for (let i = 0; i < 100; i++) {
    outbox.enqueue('power', power(t0 + i));
    const { ts, ...status } = power(t0 + i);
    outbox.enqueue('digest', { ts, power: status, alarms: [] });
    outbox.enqueue('telemetry', { ts: t0 + i, periodMs: 1000, series: { soc: [1, 2, 3] } });
    outbox.enqueue('event', { ts: t0 + i, kind: 'boot' });
    if (i % 20 === 0) outbox.enqueue('alarm', { ts: t0 + i, id: `m-${i}`, kind: 'motion', severity: 'major', state: 'raised' });
  }
  up.kick();
  await until('alarms sent', () => broker.received.filter((r) => r.topic.endsWith('/alarm')).length === 5);
  await until(
    'budget reached',
    () => up.stats.sent > 5 && outbox.next(1, { kinds: ['digest'] }).length > 0 && up.stats.acked === up.stats.sent,
  );
  const data = broker.received.filter((r) => !r.topic.endsWith('/presence'));
  assert.ok(data.every((r) => r.topic.endsWith('/alarm') || r.topic.endsWith('/digest')));
  assert.ok(data.every((r) => sniffEncoding(r.payload) === 'compact'));
  assert.ok(up.stats.bytesToday <= budget, `${up.stats.bytesToday} B used of ${budget}`);
  // Status stops at the budget minus the alarm reserve; the rest waits for tomorrow, not the bin.
  assert.ok(outbox.size().count > 200);
});

test('a closed radio window disconnects with an offline presence and holds the queue until it opens', async (t) => {
  const broker = await startBroker(t);
  const outbox = Outbox.open(':memory:', { quotaBytes: 1e6 });
  const up = makeUplink(t, broker.url, outbox);
  await until('connected', () => up.connected);
  await up.setAllowed(false);
  assert.equal(up.connected, false);
  const presence = broker.received.filter((r) => r.topic.endsWith('/presence')).map((r) => JSON.parse(r.payload.toString()).state);
  assert.deepEqual(presence, ['online', 'offline']);
  outbox.enqueue('power', power(1));
  up.kick();
  assert.equal(outbox.size().count, 1, 'nothing goes while the radio is off');
  await up.setAllowed(true);
  await until('drained after the window opens', () => outbox.size().count === 0);
});
