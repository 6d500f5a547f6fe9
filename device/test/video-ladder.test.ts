/**
 * The video ladder (pure): bitrate and what is uploaded follow the month-end data forecast; the
 * camera duty follows the power rung; satellite carries no video.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_VIDEO_USAGE, projectedMonthBytes, stepBytesPerDay, type VideoStep, videoPlan } from '../src/domain/video-ladder.ts';

const MID_MONTH = Date.UTC(2026, 11, 16); // 16 days left in December
const GB = 1e9;

test('the ladder steps down as the month-end forecast nears the plan, and never forecasts past it', () => {
  const at = (bytesMonth: number, planBytes = 2 * GB) =>
    videoPlan({ powerState: 'full', link: 'lte', now: MID_MONTH, bytesMonth, planBytes });
  const steps: VideoStep[] = [];
  for (let used = 0; used <= 2 * GB; used += 50e6) {
    const p = at(used);
    steps.push(p.step);
    if (p.step !== 'hold')
      assert.ok(
        projectedMonthBytes({ powerState: 'full', link: 'lte', now: MID_MONTH, bytesMonth: used, planBytes: 2 * GB }, p.step) <=
          0.95 * 2 * GB,
      );
  }
  const order: VideoStep[] = ['video-1000', 'video-512', 'video-256', 'snapshots-only', 'event-clips-only', 'hold'];
  for (let i = 1; i < steps.length; i++)
    assert.ok(order.indexOf(steps[i] as VideoStep) >= order.indexOf(steps[i - 1] as VideoStep), steps.join(' '));
  assert.equal(steps[0], 'video-1000');
  assert.equal(steps[steps.length - 1], 'hold');
  assert.deepEqual(
    [...new Set(steps)],
    order.filter((s) => steps.includes(s)),
  );
  assert.ok(new Set(steps).size >= 4, `only ${[...new Set(steps)].join(', ')}`);

  const low = at(1.5 * GB);
  assert.ok(low.kbps < 1000);
  const held = at(1.95 * GB);
  assert.equal(held.step, 'hold');
  assert.equal(held.uploadClips, false);
  assert.equal(held.scheduledSnapshots, false);
  assert.deepEqual(held.live, { allowed: false, reason: held.live.allowed ? '' : held.live.reason });
  assert.match(held.live.allowed ? '' : held.live.reason, /data plan: month-end forecast/);
});

test('each step costs less a day than the one above it with the default usage', () => {
  const order: VideoStep[] = ['video-1000', 'video-512', 'video-256', 'snapshots-only', 'event-clips-only', 'hold'];
  const cost = order.map((s) => stepBytesPerDay(s, DEFAULT_VIDEO_USAGE));
  for (let i = 1; i < cost.length; i++) assert.ok((cost[i] as number) < (cost[i - 1] as number), cost.join(' > '));
  assert.equal(cost[cost.length - 1], 0);
});

test('the power rung decides the camera duty; critical power stops recording and refuses live', () => {
  const plan = (powerState: Parameters<typeof videoPlan>[0]['powerState']) =>
    videoPlan({ powerState, link: 'lte', now: MID_MONTH, bytesMonth: 0, planBytes: 2 * GB });
  assert.equal(plan('full').recording, 'continuous');
  assert.equal(plan('full').scheduledSnapshots, true);
  assert.equal(plan('alarm-camera').recording, 'on-alarm');
  assert.equal(plan('alarm-camera').scheduledSnapshots, false);
  assert.equal(plan('scheduled-modem').recording, 'on-alarm');
  for (const critical of ['satellite-digest', 'deep-sleep'] as const) {
    const p = plan(critical);
    assert.equal(p.recording, 'off');
    assert.equal(p.alarmSnapshots, false);
    assert.deepEqual(p.live, { allowed: false, reason: `power rung ${critical}: camera off (critical power)` });
  }
});

test('satellite: no video uploaded, no live feed, stills as thumbnails', () => {
  const p = videoPlan({ powerState: 'full', link: 'satellite', now: MID_MONTH, bytesMonth: 0, planBytes: 2 * GB });
  assert.equal(p.uploadClips, false);
  assert.deepEqual(p.live, { allowed: false, reason: 'satellite link: no video' });
  assert.equal(p.alarmSnapshots, true);
  assert.ok(p.snapshot.width <= 160);
});
