/**
 * "Alarm committed → visible in the console" for a storm of 1,000 new alarms published at once
 * while a console is open, and the page's main-thread busy time from the storm's start until its
 * last row is drawn. The commit time is when the alarm loop's change source hears the episode
 * (after its transaction); visible is when the episode's row enters the console's list (page and
 * bench read the same machine clock). The baseline is the same console as it was before the push:
 * the stream's `alarms` and `flood` events withheld from the page and the whole list asked for every
 * 5 s (the view opened again, which asks in full as the old beat did). Each storm's alarms are
 * cleared after it, so every storm meets the same 1,000 open alarms. `shot` keeps a screenshot of
 * the console mid-storm (half the rows in) and after it in test-artifacts/.
 */
import { mkdir } from 'node:fs/promises';
import { encodeUplink, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import type { Fleet } from '../src/fleet.ts';
import { ARTIFACTS } from '../test/dashboard-browser.ts';
import { BENCH_TOKEN } from './bench-fleet.lib.ts';
import { mainThread, unitId } from './dashboard.lib.ts';

export const STORM = 1000;

export interface StormFigures {
  p50: number;
  p99: number;
  busyMs: number;
}

/** The old beat, outside the page: push events dropped, the view opened again every 5 s. */
const OLD_BEAT = `(() => {
  const add = EventSource.prototype.addEventListener;
  EventSource.prototype.addEventListener = function (type, ...rest) {
    if (type === 'alarms' || type === 'flood') return;
    return add.call(this, type, ...rest);
  };
  setInterval(() => {
    if (location.hash !== '#/alarms') return;
    location.hash = '#/';
    location.hash = '#/alarms';
  }, 5000);
})();`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

/** One storm of units `first`…`first + STORM - 1` against one open console (pushed, or on the old beat). */
export async function measureStorm(
  o: { browser: Browser; base: string; fleet: Fleet; units: MqttClient },
  first: number,
  oldBeat: boolean,
  shot?: string,
): Promise<StormFigures> {
  const context = await o.browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en' });
  if (oldBeat) await context.addInitScript(OLD_BEAT);
  const page = await context.newPage();
  await page.goto(`${o.base}/#token=${BENCH_TOKEN}`);
  await page.locator('#conn[data-state="live"]').waitFor();
  await page.evaluate(() => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = '#/alarms';
  });
  await page.locator('article.alarm').first().waitFor({ timeout: 60_000 });
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      document: { querySelector(s: string): unknown };
      MutationObserver: new (
        f: (m: { addedNodes: ArrayLike<{ dataset?: { episode?: string } }> }[]) => void,
      ) => { observe(n: unknown, o: unknown): void };
      seen: Record<string, number>;
    };
    g.seen = {};
    new g.MutationObserver((ms) => {
      const at = Date.now();
      for (const m of ms)
        for (const n of Array.from(m.addedNodes)) {
          const e = n.dataset?.episode;
          if (e && !(e in g.seen)) g.seen[e] = at;
        }
    }).observe(g.document.querySelector('.alarm-list'), { childList: true });
  });
  if (shot) await mkdir(ARTIFACTS, { recursive: true });
  const committed = new Map<string, number>();
  const mine = (e: string) => e.startsWith('hrb-') && Number(e.slice(4, 8)) > first && Number(e.slice(4, 8)) <= first + STORM;
  const stop = o.fleet.loopChanges.subscribe((c) => {
    const at = Date.now();
    for (const e of c.episodes ?? []) if (mine(e) && !committed.has(e)) committed.set(e, at);
  });
  const busy = await mainThread(page);
  const before = await busy();
  const ts = Date.now();
  const storm = (seq: number, state: 'raised' | 'cleared') =>
    Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        o.units.publishAsync(
          topics.uplink(unitId(first + i), 'alarm'),
          Buffer.from(
            encodeUplink(
              'alarm',
              { seq, ts: ts - i + seq, id: `tamper-${first + i}`, kind: 'tamper', severity: 'major', state, lat: 45.75, lon: 126.55 },
              'json',
            ),
          ),
          { qos: 1 },
        ),
      ),
    );
  const taken = o.fleet.loop.alarms.counts.taken;
  await storm(1, 'raised');
  const seen = async () => page.evaluate(() => (globalThis as unknown as { seen: Record<string, number> }).seen);
  let shown: Record<string, number> = {};
  let midShot = false;
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    shown = await seen();
    const n = [...committed.keys()].filter((e) => e in shown).length;
    if (n >= STORM) break;
    if (shot && !midShot && n >= STORM / 2) {
      midShot = true;
      await page.screenshot({ path: `${ARTIFACTS}${shot}-mid.png` });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const busyMs = (await busy()) - before;
  if (shot) await page.screenshot({ path: `${ARTIFACTS}${shot}-after.png` });
  // Cleared again: the next storm meets the same console.
  await storm(2, 'cleared');
  while (o.fleet.loop.alarms.counts.taken < taken + 2 * STORM) await new Promise((r) => setTimeout(r, 50));
  stop();
  await context.close();
  const lags = [...committed].filter(([e]) => e in shown).map(([e, at]) => (shown[e] as number) - at);
  if (lags.length < STORM) throw new Error(`only ${lags.length} of ${STORM} storm alarms reached the console`);
  return { p50: pct(lags, 50), p99: pct(lags, 99), busyMs };
}
