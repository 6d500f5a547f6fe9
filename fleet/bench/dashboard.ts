/**
 * The dashboard with 1,000 units, in Debian's headless Chromium: time to first render, main-thread
 * cost per streamed update, and the slowest interaction while updates stream. Baseline, same run:
 * the page as it was before keyed updates (fleet/bench/dashboard-baseline/, a frozen copy that
 * re-rendered every card with innerHTML each frame), served the same fleet and the same stream.
 *
 * Runnable alone: `node fleet/bench/dashboard.ts` prints a table.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from '@shouwang/runtime';
import { Value } from '@sinclair/typebox/value';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { bundlePage, type DashboardAssets } from '../src/api/dashboard-bundle.ts';
import { FleetConfig } from '../src/config.ts';
import { startFleet } from '../src/fleet.ts';
import { launchChromium } from '../test/dashboard-browser.ts';
import { firstRender, mainThread, publishFleet, recordInteractions, streamUpdates } from './dashboard.lib.ts';

const UNITS = 1000;
const RATE = 200;
const STREAM_MS = Number(process.env.BENCH_STREAM_MS ?? 6000);
const TOKEN = 'bench-admin-token';

interface Figures {
  firstRenderMs: number;
  perUpdateMs: number;
  slowestInteractionMs: number;
}

async function measure(browser: Browser, base: string, units: mqtt.MqttClient, baseline: DashboardAssets | null): Promise<Figures> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en' });
  const page = await context.newPage();
  if (baseline) {
    await page.route(`${base}/`, (r) => r.fulfill({ contentType: 'text/html', body: baseline.html }));
    await page.route(`${base}/app.js`, (r) => r.fulfill({ contentType: 'text/javascript', body: baseline.js }));
  }
  await page.goto(`${base}/#token=${TOKEN}`);
  const busy = await mainThread(page);
  const firstRenderMs = await firstRender(page, UNITS);
  await page.waitForTimeout(1000);
  // Updates alone: what the page spends on each, all of it (script, style, layout, paint).
  const before = await busy();
  const sent = await streamUpdates(units, UNITS, RATE, STREAM_MS);
  await page.waitForTimeout(500);
  const perUpdateMs = ((await busy()) - before) / sent;
  // Then a commander typing a filter and clearing it while the stream goes on.
  const interactions = await recordInteractions(page);
  const streaming = streamUpdates(units, UNITS, RATE, 4000);
  await page.locator('#filter').pressSequentially('hrb-00', { delay: 150 });
  await page.locator('#filter').fill('');
  await page.selectOption('#sort', 'battery');
  await streaming;
  const slowestInteractionMs = Math.max(0, ...(await interactions()).map((i) => i.duration));
  await context.close();
  return { firstRenderMs, perUpdateMs, slowestInteractionMs };
}

export async function bench(): Promise<BenchRow[]> {
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'dashboard-bench-'));
  const config = Value.Default(
    FleetConfig,
    Value.Convert(FleetConfig, { dataDir, http: { port: 0 }, mqtt: { url }, auth: { bootstrapAdminToken: TOKEN } }),
  ) as FleetConfig;
  const fleet = await startFleet(config, pino({ level: 'silent' }));
  const units = await mqtt.connectAsync(url, { clientId: 'bench-units', reconnectPeriod: 0 });
  const browser = await launchChromium();
  try {
    await publishFleet(units, UNITS);
    while (fleet.state.list().length < UNITS) await new Promise((r) => setTimeout(r, 50));
    const base = `http://127.0.0.1:${fleet.httpPort}`;
    const old = await bundlePage(new URL('./dashboard-baseline/', import.meta.url));
    // Alternate, best of two each: these machines are shared and runs vary.
    const runs: { keyed: Figures[]; full: Figures[] } = { keyed: [], full: [] };
    for (let i = 0; i < 2; i++) {
      runs.full.push(await measure(browser, base, units, old));
      runs.keyed.push(await measure(browser, base, units, null));
    }
    const best = (f: Figures[], k: keyof Figures) => Math.min(...f.map((x) => x[k]));
    return [
      {
        name: `dashboard first render, ${UNITS} units`,
        value: best(runs.keyed, 'firstRenderMs'),
        unit: 'ms',
        baseline: best(runs.full, 'firstRenderMs'),
      },
      {
        name: `dashboard main thread per update (${UNITS} units, ${RATE}/s)`,
        value: best(runs.keyed, 'perUpdateMs'),
        unit: 'ms',
        baseline: best(runs.full, 'perUpdateMs'),
      },
      {
        name: 'dashboard slowest interaction while streaming',
        value: best(runs.keyed, 'slowestInteractionMs'),
        unit: 'ms',
        baseline: best(runs.full, 'slowestInteractionMs'),
        target: '≤ 100 ms',
      },
    ];
  } finally {
    await browser.close();
    units.end(true);
    await fleet.close();
    await new Promise<void>((r) => broker.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await bench();
  console.table(rows.map((r) => ({ ...r, value: Number(r.value.toFixed(2)), baseline: r.baseline && Number(r.baseline.toFixed(2)) })));
}
