/**
 * "Alarm committed → visible in the console" for a storm of 1,000 new alarms published at once
 * while a console is open, and the page's main-thread busy time from the storm's start until its
 * last row is drawn. The commit time is when the alarm loop's change source hears the episode
 * (after its transaction); visible is when the episode's row enters the console's list (page and
 * bench read the same machine clock). The baseline is the same console as it was before the push:
 * the stream's `alarms` and `flood` events withheld from the page and the whole list asked for every
 * 5 s (the view opened again, which asks in full as the old beat did).
 */
import { encodeUplink, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import type { Fleet } from '../src/fleet.ts';
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
  const committed = new Map<string, number>();
  const mine = (e: string) => e.startsWith('hrb-') && Number(e.slice(4, 8)) > first && Number(e.slice(4, 8)) <= first + STORM;
  const stop = o.fleet.loopChanges.subscribe((c) => {
    const at = Date.now();
    for (const e of c.episodes ?? []) if (mine(e) && !committed.has(e)) committed.set(e, at);
  });
  const busy = await mainThread(page);
  const before = await busy();
  const ts = Date.now();
  await Promise.all(
    Array.from({ length: STORM }, (_, i) =>
      o.units.publishAsync(
        topics.uplink(unitId(first + i), 'alarm'),
        Buffer.from(
          encodeUplink(
            'alarm',
            { seq: 1, ts: ts - i, id: `tamper-${first + i}`, kind: 'tamper', severity: 'major', state: 'raised', lat: 45.75, lon: 126.55 },
            'json',
          ),
        ),
        { qos: 1 },
      ),
    ),
  );
  const seen = async () => page.evaluate(() => (globalThis as unknown as { seen: Record<string, number> }).seen);
  let shown: Record<string, number> = {};
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    shown = await seen();
    if ([...committed.keys()].filter((e) => e in shown).length >= STORM) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const busyMs = (await busy()) - before;
  stop();
  await context.close();
  const lags = [...committed].filter(([e]) => e in shown).map(([e, at]) => (shown[e] as number) - at);
  if (lags.length < STORM) throw new Error(`only ${lags.length} of ${STORM} storm alarms reached the console`);
  return { p50: pct(lags, 50), p99: pct(lags, 99), busyMs };
}
