import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { patchNodeCron } from '../deploy/node-cron-local-time.ts';

const CHILD = fileURLToPath(new URL('./fixtures/node-cron-parts.ts', import.meta.url));
// Whole-hour, half-hour and 45-minute offsets; with and without daylight saving, north and south.
const ZONES = ['Asia/Shanghai', 'UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns'];

for (const zone of ZONES)
  test(`the bundle's Intl-free local time reads as node-cron's own in ${zone}`, () => {
    const out = execFileSync(process.execPath, [CHILD], { env: { ...process.env, TZ: zone }, encoding: 'utf8' });
    const r = JSON.parse(out) as { checked: number; mismatches: string[]; total: number };
    assert.ok(r.checked > 8_000, `only ${r.checked} instants compared`);
    assert.deepEqual(r.mismatches, [], `${r.total} mismatches`);
  });

test('a node-cron without the patched function fails the build instead of shipping unpatched', () => {
  assert.throws(() => patchNodeCron('export {}'), /buildDateParts.*not found/);
});
