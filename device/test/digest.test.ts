import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeUplink, SBD_MO_BYTES } from '@shouwang/protocol';
import { buildDigest, type OpenAlarm } from '../src/domain/digest.ts';

const draft = {
  ts: 1_763_856_000_000,
  power: { soc: 9.5, batteryV: 12.3, solarW: 0, windW: 1.5, loadW: 0.9, state: 'satellite-digest' as const, timeToEmptyH: 20 },
  location: { lat: 45.75, lon: 126.63, fix: '3d' as const },
  link: { type: 'satellite' as const, rssiDbm: -110, bars: 2, bytesMonth: 9_000 },
  nextContactBy: 1_763_859_600_000,
};
const size = (d: Parameters<Parameters<typeof buildDigest>[2]>[0]) => encodeUplink('digest', { seq: 0xffffffff, ...d }, 'compact').length;

function alarm(i: number, severity: OpenAlarm['severity']): OpenAlarm {
  return {
    id: `over-temperature:${(1_763_850_000 + i).toString(36)}`,
    kind: 'over-temperature',
    severity,
    raisedAt: 1_763_850_000_000 + i,
  };
}

test('open alarms go most severe first, oldest first within a severity', () => {
  const d = buildDigest(draft, [alarm(3, 'major'), alarm(2, 'critical'), alarm(1, 'major')], size);
  assert.deepEqual(
    d.alarms.map((a) => [a.severity, a.since]),
    [
      ['critical', 1_763_850_000_002],
      ['major', 1_763_850_000_001],
      ['major', 1_763_850_000_003],
    ],
  );
  assert.equal(d.alarmsMore, undefined);
});

test('alarms beyond what fits one SBD message are counted, never silently lost', () => {
  const many = Array.from({ length: 12 }, (_, i) => alarm(i, i % 2 ? 'major' : 'critical'));
  const d = buildDigest(draft, many, size);
  assert.ok(size(d) <= SBD_MO_BYTES);
  assert.equal(d.alarms.length + (d.alarmsMore ?? 0), 12);
  assert.ok(d.alarms.every((a) => a.severity === 'critical'));
  // A tighter limit (a smaller modem buffer) trims further, still counting.
  const tight = buildDigest(draft, many, size, 120);
  assert.ok(size(tight) <= 120, `${size(tight)} B`);
  assert.equal(tight.alarms.length + (tight.alarmsMore ?? 0), 12);
});
