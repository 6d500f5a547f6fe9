/**
 * An alarm's evidence on its ticket page, over the whole system — gateway, fleet and a simulated
 * unit recording its test pattern with ffmpeg, on ephemeral ports — in Debian's headless Chromium:
 * the unit's enclosure is opened (a real tamper alarm, a real ticket), its clip and still upload,
 * and the ticket page shows the chain verified, every part arrived, the still as an image and the
 * clip in a player that reaches playing and whose time advances; the alarm console shows the same
 * under the alarm's row, its clip playing; the unit's page has its name and state above its live panel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { openPage, startBrowser } from '../../fleet/test/dashboard-browser.ts';
import { sim } from './fleet-view.ts';
import { startTestSystem, waitFor } from './harness.ts';

const ADMIN = 'swt_ticket-evidence-admin-token-0123456789';

interface Clip {
  currentTime: number;
  paused: boolean;
  duration: number;
}

function clipState(page: Page): Promise<Clip> {
  return page.evaluate(() => {
    const v = (globalThis as unknown as { document: { querySelector(s: string): Clip | null } }).document.querySelector(
      '#ticket-view .evidence-clip video',
    );
    return { currentTime: v?.currentTime ?? -1, paused: v?.paused ?? true, duration: v?.duration ?? -1 };
  });
}

test('the ticket page shows its alarm’s verified evidence: the still as an image, the clip playing', { timeout: 240_000 }, async (t) => {
  const { sys, dataDir } = await startTestSystem(t, {
    units: 1,
    adminToken: ADMIN,
    // Short rolls: the clip is whole a few seconds after the alarm.
    env: { SHOUWANG_DEVICE_VIDEO_ENABLED: 'true', SHOUWANG_DEVICE_VIDEO_PRE_ROLL_S: '2', SHOUWANG_DEVICE_VIDEO_POST_ROLL_S: '4' },
  });
  const base = `http://127.0.0.1:${sys.httpPort}`;
  const unit = sys.units[0];
  assert.ok(unit);
  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  await waitFor(
    'the unit online',
    async () => ((await get('/api/units')).body?.units as { online: boolean }[] | undefined)?.[0]?.online || undefined,
    60_000,
  );

  await sim(dataDir, unit.id, 'tamper', 'on=true');
  const ticketId = await waitFor(
    'the tamper ticket',
    async () =>
      ((await get('/api/tickets')).body?.tickets as { id: string; unitId: string }[] | undefined)?.find((x) => x.unitId === unit.id)?.id,
    60_000,
  );
  const alarmId = await waitFor(
    'the clip at the fleet',
    async () => {
      const media = (await get(`/api/units/${unit.id}/media`)).body?.media as { kind: string; state: string; alarmId: string | null }[];
      return media?.find((m) => m.kind === 'clip' && m.state === 'complete')?.alarmId ?? undefined;
    },
    120_000,
  );
  await waitFor(
    'the chain verified',
    async () => ((await get(`/api/units/${unit.id}/alarms/${alarmId}/evidence`)).body?.chain === 'ok' ? true : undefined),
    60_000,
  );

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${base}/#token=${ADMIN}`);
  const { page } = p;
  await page.goto(`${base}/#/ticket/${encodeURIComponent(ticketId)}`);
  const view = page.locator('#ticket-view');
  await view.locator('.evidence-chain[data-chain="ok"]').waitFor({ timeout: 30_000 });
  assert.match((await view.locator('.evidence-chain').textContent()) ?? '', /^Chain verified/);
  const parts = view.locator('.evidence-parts li');
  assert.ok((await parts.count()) >= 2, 'the manifest lists its parts');
  assert.equal(await view.locator('.evidence-parts li[data-arrived="false"]').count(), 0, 'every part has arrived');
  assert.equal(await view.locator('.evidence-parts li[data-part="clip"] .part-state').textContent(), 'arrived, checked');
  assert.equal(await view.locator('.no-media').count(), 0);

  // The still, decoded by the browser.
  const still = view.locator('.evidence-stills img');
  await still.first().waitFor({ timeout: 30_000 });
  await page.waitForFunction(
    () =>
      ((globalThis as unknown as { document: { querySelector(s: string): { naturalWidth: number } | null } }).document.querySelector(
        '#ticket-view .evidence-stills img',
      )?.naturalWidth ?? 0) > 0,
    undefined,
    { timeout: 30_000 },
  );
  assert.match((await view.locator('.evidence-stills figcaption').first().textContent()) ?? '', /^Still taken at /);

  // The clip: ready, then played with the player's own control, its time advancing.
  const clip = view.locator('.evidence-clip');
  await clip.and(page.locator('[data-state="ready"]')).waitFor({ timeout: 30_000 });
  await view.locator('.evidence-clip video').click();
  await clip
    .and(page.locator('[data-state="playing"]'))
    .waitFor({ timeout: 30_000 })
    .catch(async (err: unknown) => {
      await p.shot('ticket-evidence-not-playing');
      assert.fail(`the clip did not play after a click: ${String(err)}; video ${JSON.stringify(await clipState(page))}`);
    });
  const deadline = Date.now() + 30_000;
  let last = await clipState(page);
  while (!(last.currentTime >= 1.5 && !last.paused) && Date.now() < deadline) {
    await page.waitForTimeout(200);
    last = await clipState(page);
  }
  assert.ok(last.currentTime >= 1.5, `the clip's time advances: ${JSON.stringify(last)}`);
  t.diagnostic(`clip playing at ${last.currentTime.toFixed(2)} s of ${last.duration.toFixed(2)} s`);
  await p.shot('ticket-evidence');
  // A change of language redraws the ticket around the player (as a changed ticket would), never the player itself.
  const video = await view.locator('.evidence-clip video').elementHandle();
  await page.selectOption('#lang', 'zh-CN');
  await view.locator('.evidence-chain', { hasText: '证据链已验证' }).waitFor();
  await view.locator('.evidence-parts h4', { hasText: '组成部分' }).waitFor();
  await view.locator('.evidence-stills figcaption', { hasText: '拍摄的照片' }).waitFor();
  assert.ok(
    await page.evaluate(
      ([a]) =>
        a ===
        (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document.querySelector(
          '#ticket-view .evidence-clip video',
        ),
      [video],
    ),
    'the same video element after the redraw',
  );
  assert.equal((await clipState(page)).paused, false, 'still playing after the redraw');
  await p.shot('ticket-evidence-zh');
  assert.deepEqual(p.errors, []);
  // The same evidence from the alarm console: opened under the alarm's row, every part arrived, the clip playing.
  await page.goto(`${base}/#/alarms`);
  const row = page
    .locator('article.alarm', { has: page.locator(`a.unit[href="#/unit/${unit.id}"]`) })
    .filter({ has: page.locator('b.kind', { hasText: '防拆' }) });
  await row.locator('button[data-do="evidence"]').click();
  const pane = row.locator(`.evidence-pane .evidence-alarm[data-alarm="${alarmId}"]`);
  await pane.locator('.evidence-chain[data-chain="ok"]').waitFor({ timeout: 30_000 });
  assert.equal(await pane.locator('.evidence-parts li[data-arrived="false"]').count(), 0, 'every part has arrived');
  assert.ok((await pane.locator('.evidence-parts li').count()) >= 2);
  const consoleClip = pane.locator('.evidence-clip');
  await consoleClip.and(page.locator('[data-state="ready"]')).waitFor({ timeout: 30_000 });
  await consoleClip.locator('video').click();
  await consoleClip.and(page.locator('[data-state="playing"]')).waitFor({ timeout: 30_000 });
  await p.shot('ticket-evidence-console-zh');
  // The unit's page: its name and state above its live and talk-down panels.
  await page.goto(`${base}/#/unit/${encodeURIComponent(unit.id)}`);
  await page.locator('#unit-view .unit-page #live-view').waitFor({ state: 'attached' });
  const top = (sel: string) =>
    page.locator(sel).evaluate((e) => (e as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top);
  assert.ok((await top('#unit-view .unit-head')) < (await top('#live-view')), 'the name above the live panel');
  assert.ok((await top('#unit-view section.status')) < (await top('#live-view')), 'the state above the live panel');
  await p.shot('ticket-evidence-unit-zh');
  assert.deepEqual(p.errors, []);
  // The clip's playlist and segment are blobs the page made from the fleet's files.
  const outside = p.requests.filter((u) => !u.startsWith(base) && !u.startsWith('blob:'));
  assert.deepEqual(outside, [], 'everything from the fleet');
});
