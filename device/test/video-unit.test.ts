/**
 * Video through the whole agent (startUnit: the simulator, the real uplink, a real Aedes): the
 * alarm the broker gets carries its evidence head, the evidence message that follows extends that
 * chain, and the clip and still go up as chunks; on satellite nothing but stills goes up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evidenceHeads, type MediaChunk } from '@shouwang/protocol';
import { receivedChunks } from './media.ts';
import { startUnit } from './unit.ts';
import { until } from './wait.ts';

const uplinks = (u: Awaited<ReturnType<typeof startUnit>>) => u.decoded().flatMap((m) => (m.type === 'uplink' ? [m] : []));

test('an alarm carries its evidence head; the evidence that follows extends it; its clip and still go up as chunks', {
  timeout: 120_000,
}, async (t) => {
  const u = await startUnit(t, { timeScale: 1, config: { video: { enabled: true, segmentS: 1, preRollS: 2, postRollS: 2 } } });
  await until('the ring has its pre-roll', () => (u.device.video?.ring.segments().length ?? 0) >= 3, 30_000);
  u.sim.tamper(true);
  await until('the alarm', () => uplinks(u).some((m) => m.kind === 'alarm'), 30_000);
  const alarm = uplinks(u).find((m) => m.kind === 'alarm');
  assert.ok(alarm?.kind === 'alarm');
  assert.match(alarm.payload.evidence ?? '', /^[0-9a-f]{64}$/);

  await until('the evidence message', () => uplinks(u).some((m) => m.kind === 'evidence'), 60_000);
  const ev = uplinks(u).find((m) => m.kind === 'evidence');
  assert.ok(ev?.kind === 'evidence');
  assert.equal(ev.payload.alarm, alarm.payload.id);
  const heads = await evidenceHeads(u.cfg.unitId, alarm.payload.id, ev.payload.entries);
  assert.ok(heads.includes(alarm.payload.evidence as string), "the alarm's head is a prefix of the evidence chain");
  assert.equal(ev.payload.head, heads[heads.length - 1]);

  const kinds = (cs: MediaChunk[]) => new Set(cs.map((c) => `${c.kind}:${c.recording}`));
  await until(
    'chunks of the clip and the still',
    () => {
      const k = kinds(receivedChunks(u.broker.received));
      return ev.payload.entries.every((e) => e.recording === undefined || [...k].some((x) => x.endsWith(`:${e.recording}`)));
    },
    60_000,
  );
  assert.ok(
    uplinks(u).some((m) => m.kind === 'video'),
    'the camera status reached the broker',
  );
  // Nothing here answers media-ack for the fleet: the clip and the still stay pinned, and the status says so at once.
  await until(
    'the video status counts the pinned evidence',
    () => uplinks(u).some((m) => m.kind === 'video' && m.payload.pinned === 2),
    20_000,
  );
});

test('on satellite the unit records no video and sends only its alarm still, as a thumbnail', { timeout: 120_000 }, async (t) => {
  const u = await startUnit(t, { timeScale: 1, config: { sim: { link: 'satellite' }, video: { enabled: true, segmentS: 1 } } });
  u.sim.tamper(true);
  await until('the alarm still with the lane', () => u.device.bulk.list().some((i) => i.kind === 'snapshot'), 60_000);
  assert.equal(u.device.video?.recorder.running, false);
  const still = u.device.bulk.list().find((i) => i.kind === 'snapshot');
  assert.ok(still);
  assert.ok(still.size < 2500, `the satellite still is ${still.size} B`);
  assert.deepEqual(
    u.device.bulk.list().filter((i) => i.kind !== 'snapshot'),
    [],
    'no segment, clip or live recording on satellite',
  );
  await until('some of the still on the wire', () => receivedChunks(u.broker.received).length > 0, 90_000);
  assert.deepEqual([...new Set(receivedChunks(u.broker.received).map((c) => c.kind))], ['snapshot']);
});
