/**
 * A thousand units on the dashboard, shared by the scale test and the dashboard bench: the units'
 * first reports and a stream of updates published from one MQTT client on the units' own topics
 * (the test broker has no ACL), and what the page's main thread spends, read from Chromium.
 */
import { encodeUplink, topics, type UplinkKind, type UplinkPayload } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';

export const unitId = (i: number) => `hrb-${String(i + 1).padStart(4, '0')}`;

function publish<K extends UplinkKind>(client: MqttClient, id: string, kind: K, payload: UplinkPayload<K>): Promise<unknown> {
  return client.publishAsync(topics.uplink(id, kind), Buffer.from(encodeUplink(kind, payload, 'json')), { qos: 1 });
}

/** Spread over the city's districts on a jittered grid, so the map clusters as a real deployment would. */
function place(i: number, n: number): { lat: number; lon: number } {
  const side = Math.ceil(Math.sqrt(n));
  const r = Math.floor(i / side);
  const c = i % side;
  return { lat: 45.58 + (r / side) * 0.4 + ((i * 7919) % 100) / 1e5, lon: 126.45 + (c / side) * 0.5 + ((i * 104729) % 100) / 1e5 };
}

export async function publishFleet(client: MqttClient, n: number): Promise<void> {
  const now = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = unitId(i);
    sends.push(
      publish(client, id, 'presence', { state: 'online', ts: now }),
      publish(client, id, 'power', { seq: 1, ts: now, soc: 20 + (i % 80), batteryV: 12.8, solarW: 10, windW: 2, loadW: 5, state: 'full' }),
      publish(client, id, 'location', { seq: 2, ts: now, ...place(i, n), fix: '3d', sats: 9 }),
      publish(client, id, 'link', { seq: 3, ts: now, type: i % 10 === 0 ? 'nr' : 'lte', rssiDbm: -70 - (i % 30), bars: 1 + (i % 5) }),
    );
  }
  await Promise.all(sends);
}

/** `rate` power readings a second to units round-robin for `ms`; resolves with how many were sent. */
export async function streamUpdates(client: MqttClient, n: number, rate: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let sent = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    const batch: Promise<unknown>[] = [];
    for (let k = 0; k < rate / 10; k++, sent++) {
      const i = (sent * 37) % n;
      batch.push(
        publish(client, unitId(i), 'power', {
          seq: 10 + sent,
          ts: Date.now(),
          soc: 5 + ((sent * 13) % 95),
          batteryV: 12.5,
          solarW: (sent % 20) / 2,
          windW: 1,
          loadW: 5,
          state: sent % 3 === 0 ? 'alarm-camera' : 'full',
        }),
      );
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
  }
  return sent;
}

/** Milliseconds from navigation until the page shows `n` unit cards. */
export async function firstRender(page: Page, n: number): Promise<number> {
  const handle = await page.waitForFunction(
    (want) => {
      const g = globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } }; performance: { now(): number } };
      return g.document.querySelectorAll('article.card').length >= want ? g.performance.now() : 0;
    },
    n,
    { polling: 'raf', timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

/** Main-thread busy time since the probe was attached, ms (Chromium's TaskDuration: script, style, layout and paint). */
export async function mainThread(page: Page): Promise<() => Promise<number>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  return async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'TaskDuration')?.value ?? 0) * 1000;
  };
}

/** One interaction (a key press, a click) as the browser timed it: input to the next paint after its handlers. */
export interface Interaction {
  id: number;
  name: string;
  duration: number;
}

/**
 * Records every interaction the page handles with the Event Timing API, grouped by interaction
 * (its keydown/keyup or pointerdown/click entries), each as long as its slowest entry. Entries
 * under 16 ms are not recorded by the browser: an interaction missing answered within 16 ms.
 */
export async function recordInteractions(page: Page): Promise<() => Promise<Interaction[]>> {
  await page.evaluate(() => {
    type Entry = { name: string; duration: number; interactionId?: number };
    const g = globalThis as unknown as {
      __events: Entry[];
      PerformanceObserver: new (cb: (list: { getEntries(): Entry[] }) => void) => { observe(o: object): void };
    };
    g.__events = [];
    new g.PerformanceObserver((list) => {
      for (const e of list.getEntries()) g.__events.push({ name: e.name, duration: e.duration, interactionId: e.interactionId ?? 0 });
    }).observe({ type: 'event', durationThreshold: 16, buffered: false });
  });
  return async () => {
    const entries = await page.evaluate(
      () => (globalThis as unknown as { __events: { name: string; duration: number; interactionId: number }[] }).__events,
    );
    const byId = new Map<number, Interaction>();
    for (const e of entries) {
      if (!e.interactionId) continue;
      const seen = byId.get(e.interactionId);
      if (!seen || e.duration > seen.duration) byId.set(e.interactionId, { id: e.interactionId, name: e.name, duration: e.duration });
    }
    return [...byId.values()];
  };
}
