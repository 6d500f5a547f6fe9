/**
 * Live video over the whole system — gateway, fleet and a simulated unit recording its test
 * pattern with ffmpeg, on ephemeral ports — in Debian's headless Chromium: "Watch live" on the
 * unit page starts the unit's feed, the fleet serves its segments as HLS, hls.js plays them and
 * the video's time advances; the player keeps playing through the card updates and a change of
 * language; a unit on satellite refuses, and the page says why.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { openPage, startBrowser } from '../../fleet/test/dashboard-browser.ts';
import { type RunningSystem, startSystem } from '../system.ts';

const ADMIN = 'live-e2e-admin-token';

async function system(
  t: TestContext,
  env: NodeJS.ProcessEnv = {},
): Promise<{ sys: RunningSystem; base: string; id: string; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-live-e2e-'));
  const sys = await startSystem({ units: 1, mqttPort: 0, httpPort: 0, gatewayHttpPort: 0, dataDir, adminToken: ADMIN, env });
  t.after(async () => {
    await sys.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { sys, base: `http://127.0.0.1:${sys.httpPort}`, id: sys.units[0]?.id ?? '', dataDir };
}

async function untilLink(base: string, id: string, type: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await fetch(`${base}/api/units/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    last = res.ok ? ((await res.json()) as { link: { type: string } | null }).link : res.status;
    if ((last as { type?: string } | null)?.type === type) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`the fleet did not hear a ${type} link from ${id} within ${ms} ms; last: ${JSON.stringify(last)}`);
}

/** The unit's page signed in as admin, "Watch live" clicked. */
async function watch(t: TestContext, base: string, id: string) {
  // Chromium's fake microphone (a beep) for the talk-down recorder.
  const browser = await startBrowser(t, ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
  const p = await openPage(browser, `${base}/#token=${ADMIN}`);
  const { page } = p;
  await page.context().grantPermissions(['microphone']);
  await page.goto(`${base}/#/unit/${id}`);
  const player = page.locator('#live-view .live-player');
  await player.locator('button[data-live="watch"]').click({ timeout: 60_000 });
  return { p, page, player };
}

interface Played {
  bytes: number;
  sha256: string;
  durationS: number;
}

/** What the unit's simulated loudspeaker has played (it decodes each file with ffprobe). */
async function played(dataDir: string, id: string): Promise<Played[]> {
  const control = (await readFile(join(dataDir, 'units', id, 'sim-control.url'), 'utf8')).trim();
  return ((await (await fetch(`${control}/truth`)).json()) as { speaker: Played[] }).speaker;
}

/** Records ~`ms` from the fake microphone and sends it; the page's answer, once it has one. */
async function talk(page: Page, ms: number): Promise<string> {
  const record = page.locator('#live-view button[data-talk="record"]');
  await record.click();
  await page.locator('#live-view .talk-state[data-state="recording"]').waitFor();
  await page.waitForTimeout(ms);
  await record.click();
  const answered = page.locator(
    '#live-view .talk-state[data-state="playing"], #live-view .talk-state[data-state="refused"], #live-view .talk-state[data-state="failed"]',
  );
  await answered.waitFor({ timeout: 60_000 });
  return (await answered.textContent()) ?? '';
}

interface VideoState {
  currentTime: number;
  paused: boolean;
  readyState: number;
}

function videoState(page: Page): Promise<VideoState> {
  return page.evaluate(() => {
    const v = (globalThis as unknown as { document: { querySelector(s: string): VideoState | null } }).document.querySelector(
      '#live-view video',
    );
    return { currentTime: v?.currentTime ?? -1, paused: v?.paused ?? true, readyState: v?.readyState ?? 0 };
  });
}

/** Waits until the video's time has moved `seconds` past `from`, failing with the last state seen. */
async function advancesPast(page: Page, from: number, seconds: number, ms: number): Promise<VideoState> {
  const deadline = Date.now() + ms;
  let last = await videoState(page);
  while (Date.now() < deadline) {
    last = await videoState(page);
    if (!last.paused && last.currentTime >= from + seconds) return last;
    await page.waitForTimeout(200);
  }
  assert.fail(`the live video did not advance ${seconds} s past ${from} within ${ms} ms; last: ${JSON.stringify(last)}`);
}

test('the live player on the unit page reaches playing and its time advances; card updates and a language change do not restart it', {
  timeout: 180_000,
}, async (t) => {
  const { base, id, dataDir } = await system(t);
  const { p, page, player } = await watch(t, base, id);
  await player.and(page.locator('[data-state="playing"]')).waitFor({ timeout: 60_000 });
  const first = await advancesPast(page, 0, 1, 30_000);
  assert.equal(await player.locator('button[data-live="watch"]').isVisible(), false, 'no Watch button while it plays');
  t.diagnostic(`playing at ${first.currentTime.toFixed(2)} s: ${await player.locator('.live-state').textContent()}`);
  const video = await page.locator('#live-view video').elementHandle();

  // The unit's readings patch its page meanwhile, and a language change re-renders the page itself.
  await page.selectOption('#lang', 'zh-CN');
  await player.locator('h3', { hasText: '实时画面' }).waitFor();
  const later = await advancesPast(page, first.currentTime, 3, 30_000);
  assert.ok(
    await page.evaluate(
      ([a]) =>
        a === (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector('#live-view video'),
      [video],
    ),
    'the same video element plays on',
  );
  await p.shot('live-player-playing');
  t.diagnostic(`still playing at ${later.currentTime.toFixed(2)} s after the language change`);

  // Stop tells the fleet this viewer left; the feed stops on the unit.
  await page.selectOption('#lang', 'en');
  await player.locator('button[data-live="stop"]').click();
  await player.and(page.locator('[data-state="stopped"]')).waitFor();

  // Talk-down: a message recorded in the browser reaches the unit's loudspeaker and decodes there.
  // The recording's wait is the message itself (the microphone records in real time).
  const said = await talk(page, 1500);
  assert.match(said, /^The unit is playing it \(\d+\.\d s\)\.$/);
  const deadline = Date.now() + 30_000;
  let sounds = await played(dataDir, id);
  while (sounds.length === 0 && Date.now() < deadline) {
    await page.waitForTimeout(200);
    sounds = await played(dataDir, id);
  }
  assert.equal(sounds.length, 1, 'the speaker played one message');
  assert.ok((sounds[0]?.durationS ?? 0) > 1, `it decodes to the length recorded: ${JSON.stringify(sounds[0])}`);
  await p.shot('talk-down-played');
  // A stock message the unit carries (device/stock): the speaker plays the shipped file whole.
  await page.locator('#live-view button[data-talk="stock"]').click();
  while (sounds.length < 2 && Date.now() < deadline + 30_000) {
    await page.waitForTimeout(200);
    sounds = await played(dataDir, id);
  }
  assert.equal(sounds.length, 2, 'the speaker played the stock message too');
  const shipped = createHash('sha256')
    .update(await readFile(fileURLToPath(new URL('../../device/stock/leave-area.ogg', import.meta.url))))
    .digest('hex');
  assert.equal(sounds[1]?.sha256, shipped, 'the first stock message, as shipped');
  assert.equal(await page.locator('#live-view .talk-state').getAttribute('data-state'), 'playing');
  assert.ok((sounds[1]?.durationS ?? 0) > 5, `the stock message decodes whole: ${JSON.stringify(sounds[1])}`);
  assert.deepEqual(p.errors, []);
  assert.ok(
    p.requests.every((u) => u.startsWith(base)),
    `everything from the fleet: ${p.requests.filter((u) => !u.startsWith(base))}`,
  );
});

test('a unit on satellite refuses live video and the player says why', { timeout: 180_000 }, async (t) => {
  const { base, id } = await system(t, { SHOUWANG_DEVICE_SIM_LINK: 'satellite' });
  // The fleet refuses from what the unit reported, without spending the link on a request.
  await untilLink(base, id, 'satellite', 90_000);
  const { p, page, player } = await watch(t, base, id);
  await player.and(page.locator('[data-state="refused"], [data-state="failed"]')).waitFor({ timeout: 90_000 });
  const text = (await player.locator('.live-state').textContent()) ?? '';
  await p.shot('live-player-refused');
  assert.match(text, /No live video from this unit: on satellite \(satellite link: no video\)/);
  assert.equal(await page.locator('#live-view video').isHidden(), true);
  assert.equal(await player.locator('button[data-live="stop"]').isVisible(), false, 'nothing to stop');
  // A recorded message cannot cross a satellite link: refused, in words, before it is sent.
  assert.match(
    await talk(page, 500),
    /^The unit cannot play it: on satellite \(satellite link: recorded audio cannot be carried; pick a stock message\)\.$/,
  );
  assert.deepEqual(p.errors, []);
});
