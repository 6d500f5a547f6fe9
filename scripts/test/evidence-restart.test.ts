/**
 * An alarm's evidence survives a power cut, over the whole system — gateway, fleet and a simulated
 * unit recording its test pattern with ffmpeg, on ephemeral ports: the enclosure is opened (a real
 * tamper alarm), and the agent is killed with SIGKILL once the alarm's still is at the fleet but
 * long before its clip's 30 s post-roll is recorded. After the restart the fleet's evidence answer
 * has the still, the clip made of what the ring held (marked cut short by the restart), every part
 * arrived, and the chain verified through the head the alarm carried.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stopChild } from '../system.ts';
import { sim } from './fleet-view.ts';
import { startTestSystem, waitFor } from './harness.ts';

interface MediaView {
  recording: string;
  kind: string;
  state: string;
  alarmId: string | null;
}

interface EvidenceView {
  chain: string;
  raisedHead: string | null;
  parts: { part: string; recording?: string; cut?: string; arrived: boolean }[];
}

test('kill -9 after the alarm’s still, before its clip closed: after the restart the fleet has the still, the clip cut short, the chain verified', {
  timeout: 240_000,
}, async (t) => {
  const { sys, dataDir } = await startTestSystem(t, {
    units: 1,
    env: { SHOUWANG_DEVICE_VIDEO_ENABLED: 'true', SHOUWANG_DEVICE_VIDEO_PRE_ROLL_S: '2', SHOUWANG_DEVICE_VIDEO_POST_ROLL_S: '30' },
  });
  const base = `http://127.0.0.1:${sys.httpPort}`;
  const unit = sys.units[0];
  assert.ok(unit);
  const get = async <T>(path: string): Promise<T | undefined> => {
    const res = await fetch(`${base}${path}`);
    return res.ok ? ((await res.json()) as T) : undefined;
  };
  const media = async () => (await get<{ media: MediaView[] }>(`/api/units/${unit.id}/media`))?.media ?? [];
  await waitFor(
    'the unit online',
    async () => (await get<{ units: { online: boolean }[] }>('/api/units'))?.units[0]?.online || undefined,
    60_000,
  );

  await sim(dataDir, unit.id, 'tamper', 'on=true');
  const still = await waitFor(
    'the alarm’s still at the fleet',
    async () => (await media()).find((m) => m.kind === 'snapshot' && m.state === 'complete' && m.alarmId !== null),
    60_000,
  );
  const alarmId = still.alarmId as string;
  assert.equal((await media()).filter((m) => m.kind === 'clip').length, 0, 'the clip is still recording its post-roll');

  // The bad moment: the still taken and sent, the clip open. A power cut: agent and ffmpeg at once.
  unit.child.kill('SIGKILL');
  await stopChild(unit.child);
  sys.units[0] = await sys.startUnit(0, unit.password);

  const evidence = await waitFor(
    'the evidence with every part arrived',
    async () => {
      const e = await get<EvidenceView>(`/api/units/${unit.id}/alarms/${encodeURIComponent(alarmId)}/evidence`);
      return e?.parts.some((p) => p.part === 'clip') && e.parts.every((p) => p.arrived) ? e : undefined;
    },
    120_000,
  );
  t.diagnostic(`evidence after the restart: ${JSON.stringify(evidence.parts.map((p) => [p.part, p.recording, p.cut]))}`);
  assert.equal(evidence.chain, 'ok', 'the chain verifies through the head the alarm carried');
  assert.ok(evidence.raisedHead, 'the alarm carried a head');
  const parts = Object.fromEntries(evidence.parts.map((p) => [p.part, p]));
  assert.equal(parts.snapshot?.recording, still.recording, 'the still taken before the cut is in the manifest');
  assert.ok(parts.clip?.recording, 'the clip was made from what the ring held');
  assert.equal(parts.clip?.cut, 'restart', 'the clip is marked cut short by the restart');
});
