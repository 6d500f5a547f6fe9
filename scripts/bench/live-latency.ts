/**
 * Live latency, capture → playable: the whole system (gateway, fleet, one simulated unit recording
 * its test pattern with ffmpeg) with the unit's uplink at 512 kbit/s (`sim.linkKbps`, a thin 4G
 * cell), the unit page's live player in Debian's headless Chromium. Per segment: the moment hls.js
 * has appended it to the video's buffer (FRAG_BUFFERED) against its capture time (its
 * EXT-X-PROGRAM-DATE-TIME, the first frame's), so each figure includes the segment's own length.
 * Also the first time the fleet's playlist lists each segment (the link and the fleet, no player),
 * and how far behind the camera the picture on screen is (hls.js's playingDate), which adds the
 * player's deliberate two segments of margin. Baseline, same run: the same at the LTE profile's
 * 2 MB/s. The unit and the browser share this machine's clock.
 *
 * hls.js is instrumented from outside: the bench serves the page a module that re-exports the
 * fleet's own hls.js with a listener on each instance; the player is unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from '@shouwang/runtime';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../fleet/test/dashboard-browser.ts';
import { startSystem } from '../system.ts';

const ADMIN = 'live-latency-bench-admin-token';
/** Segments measured per link, after the warm-up. */
const SEGMENTS = 24;
/** The first segments wait for hls.js itself to load: they measure the page's start, not the live path. */
const WARM_UP = 2;
const MAX_WAIT_MS = 300_000;
const TARGET_KBPS = 512;

const INSTRUMENTED_HLS = `import Hls from '/assets/hls.mjs?bench=real';
const seen = (globalThis.__liveBench ??= { frags: [], hls: null });
export default class BenchHls extends Hls {
  constructor(config) {
    super(config);
    seen.hls = this;
    this.on(Hls.Events.FRAG_BUFFERED, (_e, d) => {
      seen.frags.push({ sn: d.frag.sn, pdt: d.frag.programDateTime, at: Date.now() });
    });
  }
}`;

interface Buffered {
  sn: number;
  pdt: number | null;
  at: number;
}

interface LinkFigures {
  /** Capture → listed in the fleet's playlist: what the link and the fleet take, before any player. */
  listedMs: number[];
  bufferedMs: number[];
  shownMs: number[];
  /** Segments buffered of those the unit captured over the same span (sequence numbers). */
  playedShare: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function measure(browser: Browser, linkKbps: number | undefined): Promise<LinkFigures> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-live-bench-'));
  const env: NodeJS.ProcessEnv = linkKbps === undefined ? {} : { SHOUWANG_DEVICE_SIM_LINK_KBPS: String(linkKbps) };
  const sys = await startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir, adminToken: ADMIN, env });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en', timezoneId: 'UTC' });
  try {
    const base = `http://127.0.0.1:${sys.httpPort}`;
    const id = sys.units[0]?.id ?? '';
    await context.route(
      (u) => u.pathname === '/assets/hls.mjs',
      (route) =>
        new URL(route.request().url()).searchParams.has('bench')
          ? route.continue()
          : route.fulfill({ contentType: 'text/javascript', body: INSTRUMENTED_HLS }),
    );
    const page = await context.newPage();
    await page.goto(`${base}/#token=${ADMIN}`);
    await page.goto(`${base}/#/unit/${id}`);
    const playlist = page.waitForRequest((r) => r.url().endsWith('/index.m3u8'), { timeout: 60_000 });
    await page.locator('#live-view button[data-live="watch"]').click({ timeout: 60_000 });
    const listed = watchPlaylist((await playlist).url());
    try {
      return { ...(await collect(page)), listedMs: [...listed.ms.values()].slice(WARM_UP) };
    } finally {
      listed.stop();
    }
  } finally {
    await context.close();
    await sys.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Waits for WARM_UP + SEGMENTS buffered segments or MAX_WAIT_MS, whichever comes first, sampling the
 * on-screen lag meanwhile. A link too thin for the feed buffers only some of its segments (the lane
 * drops the stale ones): the figures are over those that did play, with the share beside them.
 */
/**
 * Polls the fleet's playlist every 200 ms, as a player would without playing: the first time each
 * segment is listed, against its program-date-time, by media sequence number.
 */
function watchPlaylist(url: string): { ms: Map<number, number>; stop(): void } {
  const ms = new Map<number, number>();
  let running = true;
  void (async () => {
    while (running) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } }).catch(() => null);
      const now = Date.now();
      let sn = -1;
      let pdt: number | undefined;
      for (const line of res?.ok ? (await res.text()).split('\n') : []) {
        if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) sn = Number(line.slice(22));
        else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
        else if (line.startsWith('#EXTINF:')) {
          if (pdt !== undefined && sn >= 0 && !ms.has(sn)) ms.set(sn, now - pdt);
          pdt = undefined;
          sn++;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    ms,
    stop: () => {
      running = false;
    },
  };
}

async function collect(page: Page): Promise<Omit<LinkFigures, 'listedMs'>> {
  const shownMs: number[] = [];
  let frags: Buffered[] = [];
  const deadline = Date.now() + MAX_WAIT_MS;
  while (frags.length < WARM_UP + SEGMENTS && Date.now() < deadline) {
    await page.waitForTimeout(500);
    const state = await page.evaluate(() => {
      const seen = (globalThis as { __liveBench?: { frags: Buffered[]; hls: { playingDate: Date | null } | null } }).__liveBench;
      return { frags: seen?.frags ?? [], playing: seen?.hls?.playingDate?.getTime() ?? null, now: Date.now() };
    });
    frags = state.frags;
    if (state.playing !== null && frags.length > WARM_UP) shownMs.push(state.now - state.playing);
  }
  const measured = frags.slice(WARM_UP, WARM_UP + SEGMENTS);
  const first = measured[0];
  const last = measured.at(-1);
  if (!first || !last) throw new Error(`only ${frags.length} segments buffered in ${MAX_WAIT_MS / 1000} s`);
  if (measured.some((f) => f.pdt === null)) throw new Error('a segment without EXT-X-PROGRAM-DATE-TIME');
  return {
    bufferedMs: measured.map((f) => f.at - (f.pdt as number)),
    shownMs,
    playedShare: measured.length / (last.sn - first.sn + 1),
  };
}

export async function bench(): Promise<BenchRow[]> {
  const browser = await launchChromium();
  try {
    const thin = await measure(browser, TARGET_KBPS);
    const lte = await measure(browser, undefined);
    const row = (name: string, pick: (f: LinkFigures) => number[], q: number, target?: string): BenchRow => {
      const at = (f: LinkFigures) =>
        quantile(
          [...pick(f)].sort((a, b) => a - b),
          q,
        ) / 1000;
      return { name, value: at(thin), unit: 's', baseline: at(lte), ...(target ? { target } : {}) };
    };
    const label = `${TARGET_KBPS} kbit/s 4G, ${thin.bufferedMs.length} segments (baseline LTE 2 MB/s, ${lte.bufferedMs.length})`;
    return [
      row(`live capture → listed at the fleet p50, ${label}`, (f) => f.listedMs, 0.5),
      row(`live capture → listed at the fleet p95, ${label}`, (f) => f.listedMs, 0.95),
      row(`live capture → playable p50, ${label}`, (f) => f.bufferedMs, 0.5),
      row(`live capture → playable p95, ${label}`, (f) => f.bufferedMs, 0.95, 'p95 < 3 s'),
      row(`live capture → on screen p50, ${label}`, (f) => f.shownMs, 0.5),
      { name: `live segments played of captured, ${label}`, value: thin.playedShare * 100, unit: '%', baseline: lte.playedShare * 100 },
    ];
  } finally {
    await browser.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.table(await bench());
