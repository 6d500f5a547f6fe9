import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '@shouwang/hardware';
import { pino } from 'pino';
import { Scheduler } from '../src/services/scheduler.ts';
import { useTimeZone } from '../src/services/time-zone.ts';

test('cron jobs fire on the injected clock: a day of schedules in mock time', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: Date.UTC(2026, 0, 10, 0, 0, 0) });
  assert.equal(useTimeZone('Asia/Shanghai'), 480);
  const s = new Scheduler(systemClock, pino({ level: 'silent' }));
  t.after(() => s.stop());
  const fired: Record<string, number[]> = { snap: [], maint: [] };
  s.set({ name: 'snap', pattern: '0 */15 * * * *', run: (at) => void fired.snap?.push(at) });
  // 03:00 Harbin time (UTC+8) = 19:00 UTC.
  s.set({ name: 'maint', pattern: '0 0 3 * * *', run: (at) => void fired.maint?.push(at) });
  s.start();
  for (let i = 0; i < 24 * 3600; i++) t.mock.timers.tick(1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(fired.snap?.length, 96);
  assert.deepEqual(fired.maint, [Date.UTC(2026, 0, 10, 19, 0, 0)]);
});

test('an invalid pattern is refused with the failing field; a failing job does not stop the others', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  const s = new Scheduler(systemClock, pino({ level: 'silent' }));
  t.after(() => s.stop());
  assert.throws(() => s.set({ name: 'bad', pattern: '0 99 * * * *', run: () => undefined }), /invalid schedule .*minute/);
  let ok = 0;
  s.set({
    name: 'boom',
    pattern: '* * * * * *',
    run: () => {
      throw new Error('boom');
    },
  });
  s.set({ name: 'ok', pattern: '* * * * * *', run: () => void ok++ });
  s.start();
  for (let i = 0; i < 5; i++) t.mock.timers.tick(1000);
  await new Promise((r) => setImmediate(r));
  assert.equal(ok, 5);
});

test('an unknown time zone is refused at start instead of leaving the schedules on UTC', () => {
  assert.throws(() => useTimeZone('Asia/Harbinn'), /unknown time zone "Asia\/Harbinn"/);
  assert.equal(useTimeZone('Europe/Berlin', new Date(Date.UTC(2026, 6, 1))), 120);
  assert.equal(useTimeZone('UTC'), 0);
});
