/**
 * Every alarm's evidence where a commander looks, in Debian's Chromium over a real fleet and
 * broker, with an MQTT.js client in the unit's place sending what a unit sends (alarms, evidence
 * manifests, chunks of a still and of an H.264 clip made by ffmpeg): a tamper raised twice on one
 * unit folds into one episode and one ticket; the ticket's answer names both of the unit's alarm
 * ids; the ticket page shows the evidence of both, newest first, each under its time; the alarm
 * console opens the episode's evidence under its row — which parts have arrived and which are
 * still on the unit — and, once the clip's chunks come, the list says so and the clip plays.
 * Screenshots in test-artifacts/ at 1440×900 and 390×844, in both languages.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { type EvidenceEntry, encodeChunk, evidenceHeads, type MediaChunk, topics } from '@shouwang/protocol';
import type { MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import { DESKTOP, openPage, PHONE, startBrowser } from './dashboard-browser.ts';
import { apiClient, send, startBroker, startTestFleet, tempDir, unitClient, waitFor } from './helpers.ts';

const ADMIN = 'evidence-views-admin-token-0123456789';
const UNIT = 'hrb-801';
const DAOLI = { lat: 45.75, lon: 126.55 };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** A still (JPEG) and a 3 s clip (MPEG-TS, H.264), as the unit's camera makes them. */
async function media(dir: string): Promise<{ still: Buffer; clip: Buffer }> {
  const run = promisify(execFile);
  const still = join(dir, 'still.jpg');
  const clip = join(dir, 'clip.ts');
  await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=1', '-frames:v', '1', still]);
  await run('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=10', '-t', '3'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '10', '-f', 'mpegts', clip],
  ]);
  return { still: await readFile(still), clip: await readFile(clip) };
}

async function upload(
  unit: MqttClient,
  file: Buffer,
  recording: string,
  kind: 'snapshot' | 'clip',
  alarm: string,
  type: MediaChunk['type'],
) {
  for (let offset = 0; offset < file.length; offset += 32_768) {
    const data = file.subarray(offset, offset + 32_768);
    const chunk: MediaChunk = { recording, kind, offset, hash: sha(data), data, size: file.length, sha256: sha(file), alarm, type };
    if (kind === 'clip' && offset === 0) chunk.durationMs = 3000;
    await unit.publishAsync(topics.chunk(UNIT), Buffer.from(encodeChunk(chunk)), { qos: 1 });
  }
}

/** Raises `id` with its manifest (the head over all of it, as a unit whose parts were all taken before it sent). */
async function raise(unit: MqttClient, seq: number, id: string, ts: number, entries: EvidenceEntry[]) {
  const heads = await evidenceHeads(UNIT, id, entries);
  const head = heads.at(-1) as string;
  await send(unit, UNIT, 'alarm', { seq, ts, id, kind: 'tamper', severity: 'critical', state: 'raised', ...DAOLI, evidence: head });
  await send(unit, UNIT, 'evidence', { seq: seq + 1, ts, alarm: id, entries, head });
}

/** The boxes of an evidence list in the order the page shows them (CSS `order`). */
function shownOrder(page: Page, scope: string): Promise<{ alarm: string | null; when: string }[]> {
  return page.locator(`${scope} .evidence-alarm:not([hidden])`).evaluateAll((els) =>
    els
      .map((e) => ({
        alarm: e.getAttribute('data-alarm'),
        when: e.querySelector('.evidence-when')?.textContent ?? '',
        order: Number((e as unknown as { style: { order: string } }).style.order),
      }))
      .sort((a, b) => a.order - b.order)
      .map(({ alarm, when }) => ({ alarm, when })),
  );
}

test('the ticket page and the alarm console show the evidence of every alarm behind them; parts as they arrive; the clip plays', {
  timeout: 180_000,
}, async (t) => {
  const T0 = Date.now() - 10 * 60_000;
  const { still, clip } = await media(await tempDir(t));
  const broker = await startBroker(t);
  const fleet = await startTestFleet(t, broker.url, { auth: { bootstrapAdminToken: ADMIN } });
  const api = apiClient(fleet.base);
  const commander = (await api('POST', '/api/tokens', ADMIN, { role: 'commander', name: 'Commander Zhao' })).body.token as string;
  const unit = await unitClient(t, broker.url, UNIT);

  // The first tamper: its still arrives. The second, a minute later while the first is active: its clip is still on the unit.
  const still1 = { part: 'snapshot', ts: T0 + 200, recording: 'snap-1', bytes: still.length, sha256: sha(still).toString('hex') } as const;
  await raise(unit, 1, 'tamper-1', T0, [{ part: 'position', ts: T0, ...DAOLI }, still1]);
  await upload(unit, still, 'snap-1', 'snapshot', 'tamper-1', 'image/jpeg');
  const T1 = T0 + 60_000;
  // Its unit restarted before the post-roll: the clip is what the ring held, and says so.
  const clip2 = {
    part: 'clip',
    ts: T1 + 500,
    recording: 'clip-2',
    bytes: clip.length,
    sha256: sha(clip).toString('hex'),
    cut: 'restart',
  } as const;
  await raise(unit, 3, 'tamper-2', T1, [{ part: 'position', ts: T1, ...DAOLI }, clip2]);
  await waitFor(async () => (await fleet.media.store.get(UNIT, 'snap-1'))?.state === 'complete', 10_000);
  await waitFor(async () => (await fleet.media.evidence.status(UNIT, 'tamper-2'))?.chain === 'ok', 10_000);

  type Ticket = { id: string; unitId: string; alarmCount: number };
  let ticket: Ticket | undefined;
  await waitFor(async () => {
    ticket = ((await api('GET', '/api/tickets', ADMIN)).body.tickets as Ticket[]).find((x) => x.unitId === UNIT);
    return ticket?.alarmCount === 2;
  }, 10_000);
  const ticketId = ticket?.id ?? '';
  // The answers name the unit's alarm ids: nothing is parsed out of the idempotency key.
  const one = (await api('GET', `/api/tickets/${ticketId}`, ADMIN)).body;
  const episode = `${UNIT}~tamper~tamper-1`;
  assert.deepEqual(one.alarms, [
    { alarmId: 'tamper-2', episode, raisedAt: null },
    { alarmId: 'tamper-1', episode, raisedAt: T0 },
  ]);
  const ep = (await api('GET', `/api/alarms/${encodeURIComponent(episode)}`, ADMIN)).body;
  assert.deepEqual(ep.occurrences, one.alarms);

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: DESKTOP });
  const { page } = p;

  // The ticket page: both alarms' evidence, the newer first, each under its time.
  await page.goto(`${fleet.base}/#/ticket/${encodeURIComponent(ticketId)}`);
  const tv = page.locator('#ticket-view');
  await tv.locator('.evidence-alarm[data-alarm="tamper-1"] .evidence-stills img').waitFor({ timeout: 20_000 });
  await tv.locator('.evidence-alarm[data-alarm="tamper-2"] .evidence-parts li[data-part="clip"]').waitFor();
  const order = await shownOrder(page, '#ticket-view');
  assert.deepEqual(
    order.map((o) => o.alarm),
    ['tamper-2', 'tamper-1'],
    'newest first',
  );
  for (const o of order) assert.match(o.when, /^Alarm raised at \S/, JSON.stringify(order));
  assert.notEqual(order[0]?.when, order[1]?.when, 'each under its own time');
  assert.equal(await tv.locator('.no-media').count(), 0);
  await p.shot('evidence-ticket-desktop-en');

  // The alarm console: one episode; its evidence opens under the row.
  await page.goto(`${fleet.base}/#/alarms`);
  const row = page.locator(`article.alarm[data-episode="${episode}"]`);
  await row.locator('button[data-do="evidence"]').click();
  const pane = row.locator('.evidence-pane');
  await pane.locator('.evidence-alarm[data-alarm="tamper-2"] .evidence-parts li').first().waitFor({ timeout: 20_000 });
  await pane.locator('.evidence-alarm[data-alarm="tamper-1"] .evidence-stills img').waitFor({ timeout: 20_000 });
  assert.deepEqual(
    (await shownOrder(page, `article.alarm[data-episode="${episode}"]`)).map((o) => o.alarm),
    ['tamper-2', 'tamper-1'],
  );
  const parts = (alarm: string) =>
    pane
      .locator(`.evidence-alarm[data-alarm="${alarm}"] .evidence-parts li`)
      .evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-part'), e.getAttribute('data-arrived'), e.querySelector('.part-state')?.textContent]),
      );
  const kb = (clip.length / 1024).toFixed(0);
  assert.deepEqual(await parts('tamper-2'), [
    ['position', 'true', 'carried in the manifest'],
    ['clip', 'false', `not arrived yet (${kb} kB) · cut short: the unit restarted before the rest was recorded`],
  ]);
  assert.deepEqual(await parts('tamper-1'), [
    ['position', 'true', 'carried in the manifest'],
    ['snapshot', 'true', 'arrived, checked'],
  ]);
  await p.shot('evidence-console-waiting-desktop-en');

  // The clip comes: the open list says so on the console's next beat, and it plays.
  await upload(unit, clip, 'clip-2', 'clip', 'tamper-2', 'video/mp2t');
  const clipBox = pane.locator('.evidence-alarm[data-alarm="tamper-2"] .evidence-clip');
  await pane.locator('.evidence-alarm[data-alarm="tamper-2"] li[data-part="clip"][data-arrived="true"]').waitFor({ timeout: 20_000 });
  await clipBox.and(page.locator('[data-state="ready"]')).waitFor({ timeout: 20_000 });
  await clipBox.locator('video').click();
  await clipBox.and(page.locator('[data-state="playing"]')).waitFor({ timeout: 20_000 });
  const played = async () => clipBox.locator('video').evaluate((v) => (v as unknown as { currentTime: number }).currentTime);
  await waitFor(async () => (await played()) >= 1, 20_000);
  await p.shot('evidence-console-playing-desktop-en');
  await page.selectOption('#lang', 'zh-CN');
  await pane.locator('.evidence-when', { hasText: '报警发生于' }).first().waitFor();
  await row.locator('button[data-do="evidence"]', { hasText: '收起证据' }).waitFor();
  await p.shot('evidence-console-playing-desktop-zh');
  // Closed again: the pane and its player go.
  await row.locator('button[data-do="evidence"]').click();
  assert.equal(await row.locator('.evidence-pane').count(), 0);
  assert.deepEqual(p.errors, []);

  // On a phone, in both languages.
  for (const lang of ['zh-CN', 'en'] as const) {
    const ph = await openPage(browser, `${fleet.base}/#token=${commander}`, { viewport: PHONE, lang });
    await ph.page.goto(`${fleet.base}/#/alarms`);
    const r = ph.page.locator(`article.alarm[data-episode="${episode}"]`);
    await r.locator('button[data-do="evidence"]').click();
    await r.locator('.evidence-alarm[data-alarm="tamper-2"] .evidence-clip[data-state="ready"]').waitFor({ timeout: 20_000 });
    await r.locator('.evidence-pane').scrollIntoViewIfNeeded();
    await ph.shot(`evidence-console-phone-${lang}`);
    await ph.page.goto(`${fleet.base}/#/ticket/${encodeURIComponent(ticketId)}`);
    await ph.page.locator('#ticket-view .evidence-alarm[data-alarm="tamper-1"] .evidence-stills img').waitFor({ timeout: 20_000 });
    await ph.page.locator('#ticket-view .evidence-list').scrollIntoViewIfNeeded();
    await ph.shot(`evidence-ticket-phone-${lang}`);
    assert.deepEqual(ph.errors, []);
  }
});
