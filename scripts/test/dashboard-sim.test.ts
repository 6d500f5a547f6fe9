/**
 * The dashboard over the whole system — gateway, fleet and a simulated unit process on ephemeral
 * ports — in Debian's headless Chromium: a pack drained in the unit's simulator shows on the
 * unit's card as its new charge, its power rung and the reading's age within seconds. The unit was
 * registered with its demo site and claimed through the fleet's API, as `./dev start` does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openPage, startBrowser } from '../../fleet/test/dashboard-browser.ts';
import { startSystem } from '../system.ts';

const ADMIN = 'dashboard-e2e-admin-token';
const RUNG: Record<string, string> = {
  full: 'full power',
  'alarm-camera': 'camera on alarm',
  'scheduled-modem': 'modem on schedule',
  'satellite-digest': 'satellite digest',
  'deep-sleep': 'deep sleep',
};

test('a unit drained in the simulator shows its new charge, power rung and reading age on the dashboard', {
  timeout: 120_000,
}, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shouwang-dash-e2e-'));
  const sys = await startSystem({
    units: 1,
    mqttPort: 0,
    httpPort: 0,
    gatewayHttpPort: 0,
    dataDir,
    timeScale: 30,
    adminToken: ADMIN,
  });
  t.after(async () => {
    await sys.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const id = sys.units[0]?.id ?? '';
  const base = `http://127.0.0.1:${sys.httpPort}`;

  const browser = await startBrowser(t);
  const p = await openPage(browser, `${base}/#token=${ADMIN}`);
  const { page } = p;
  const card = page.locator(`article.card[data-unit="${id}"]`);
  // Provisioned through the API: the registry holds it as claimed, with the site the card names.
  const reg = (await (await fetch(`${base}/api/registry/units/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
    status: string;
    site: { name: string } | null;
  };
  assert.equal(reg.status, 'active');
  assert.equal(reg.site?.name, sys.units[0]?.site.name);
  await card.getByText(sys.units[0]?.site.name ?? '?').waitFor({ timeout: 30_000 });
  await card.locator('[data-field="soc"]', { hasText: / % · / }).waitFor({ timeout: 30_000 });
  const before = Number.parseFloat((await card.locator('[data-field="soc"]').textContent()) ?? '');

  const control = (await readFile(join(dataDir, 'units', id, 'sim-control.url'), 'utf8')).trim();
  const res = await fetch(`${control}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"op":"setSoc","soc":45}',
  });
  assert.equal(res.status, 200);
  const drained = Date.now();
  await page.waitForFunction(
    ([sel, limit]) => {
      const text =
        (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(sel)
          ?.textContent ?? '';
      return Number.parseFloat(text) < limit;
    },
    // The agent's estimate converges on the new truth over a few reports (45 % keeps the radio up;
    // the rungs below sleep it, which the liveness tests cover).
    [`article.card[data-unit="${id}"] [data-field="soc"]`, Math.min(before, 75) - 10] as const,
    { timeout: 30_000, polling: 250 },
  );
  t.diagnostic(`${id}: ${before} % → drained on the card ${((Date.now() - drained) / 1000).toFixed(1)} s after the fault`);
  // What the card says is what the fleet holds, with the reading's age.
  const view = (await (await fetch(`${base}/api/units/${id}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
    power: { soc: number; state: string };
  };
  await card.locator('[data-field="rung"]', { hasText: RUNG[view.power.state] ?? '?' }).waitFor();
  assert.match((await card.locator('[data-field="soc"]').textContent()) ?? '', /^\d+ % · \d+\.\d\d V · \d+ (s|min) ago$/);
  await p.shot('dashboard-sim-drained');
  assert.deepEqual(p.errors, []);
});
