/**
 * The video ladder (pure): the mode follows the month-end data forecast against the SIM plan,
 * capped by the power rung's camera duty; satellite carries no video.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { VideoMode } from '@shouwang/protocol';
import { DEFAULT_VIDEO_USAGE, type LadderInputs, modeBytesPerDay, projectedMonthBytes, videoPlan } from '../src/domain/video-ladder.ts';

const MID_MONTH = Date.UTC(2026, 11, 16); // 16 days left in December
const GB = 1e9;
const ORDER: VideoMode[] = ['full', 'reduced', 'low', 'snapshots', 'events', 'off'];
const base: LadderInputs = { powerState: 'full', link: 'lte', now: MID_MONTH, bytesMonth: 0, planBytes: 2 * GB };

test('the mode steps down as the month-end forecast nears the plan, and never forecasts past it', () => {
  const modes: VideoMode[] = [];
  for (let used = 0; used <= 2 * GB; used += 5e6) {
    const i = { ...base, bytesMonth: used };
    const p = videoPlan(i);
    modes.push(p.mode);
    if (p.mode !== 'off') assert.ok(projectedMonthBytes(i, p.mode) <= 0.95 * 2 * GB, `${used}: ${p.detail}`);
    if (p.mode !== 'full') assert.equal(p.reason, 'data-budget');
  }
  for (let i = 1; i < modes.length; i++)
    assert.ok(ORDER.indexOf(modes[i] as VideoMode) >= ORDER.indexOf(modes[i - 1] as VideoMode), modes.join(' '));
  // `events` costs more a month than `snapshots` (a clip a day against a still every 15 min): it is the power rungs' mode.
  assert.deepEqual([...new Set(modes)], ['full', 'reduced', 'low', 'snapshots', 'off'], 'every data step is reached on the way down');

  const low = videoPlan({ ...base, bytesMonth: 1.5 * GB });
  assert.ok(low.kbps < 1000);
  const spent = videoPlan({ ...base, bytesMonth: 1.95 * GB });
  assert.equal(spent.mode, 'off');
  assert.equal(spent.recording, 'off');
  assert.equal(spent.live.allowed, false);
  assert.match(spent.live.allowed ? '' : spent.live.detail, /data plan: month-end forecast/);
});

test('each video mode costs less a day than the one above it; stills and event clips less than any video mode', () => {
  const cost = (m: VideoMode) => modeBytesPerDay(m, DEFAULT_VIDEO_USAGE);
  assert.ok(cost('full') > cost('reduced') && cost('reduced') > cost('low'));
  assert.ok(cost('low') > Math.max(cost('snapshots'), cost('events')));
  assert.equal(cost('off'), 0);
});

test('the power rung caps the mode; critical power stops recording and refuses live', () => {
  const plan = (powerState: LadderInputs['powerState']) => videoPlan({ ...base, powerState });
  assert.equal(plan('full').mode, 'full');
  assert.equal(plan('full').recording, 'continuous');
  for (const rung of ['alarm-camera', 'scheduled-modem'] as const) {
    const p = plan(rung);
    assert.equal(p.mode, 'events');
    assert.equal(p.reason, 'power');
    assert.equal(p.recording, 'on-alarm');
    assert.equal(p.scheduledSnapshots, false);
    assert.equal(p.live.allowed, true, 'command may still look in on a unit saving power');
  }
  for (const critical of ['satellite-digest', 'deep-sleep'] as const) {
    const p = plan(critical);
    assert.equal(p.mode, 'off');
    assert.equal(p.reason, 'critical-power');
    assert.equal(p.recording, 'off');
    assert.equal(p.alarmSnapshots, false);
    assert.deepEqual(p.live, { allowed: false, reason: 'critical-power', detail: `power rung ${critical}: camera off` });
  }
});

test('satellite: no video, no live feed, stills as thumbnails', () => {
  const p = videoPlan({ ...base, link: 'satellite' });
  assert.equal(p.mode, 'snapshots');
  assert.equal(p.reason, 'satellite');
  assert.equal(p.recording, 'off');
  assert.deepEqual(p.live, { allowed: false, reason: 'satellite', detail: 'satellite link: no video' });
  assert.equal(p.alarmSnapshots, true);
  assert.ok(p.snapshot.width <= 160);
});
