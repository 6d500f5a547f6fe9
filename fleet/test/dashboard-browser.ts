/**
 * Vocabulary for the dashboard tests: a *browser* is Debian's Chromium driven by playwright-core
 * (no browser is ever downloaded); a *page* is one tab on the fleet's dashboard that collects its
 * own script errors; *shots* are screenshots kept in test-artifacts/ (git-ignored) to look at.
 */
import { mkdir } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** Debian's Chromium, headless, with nothing of its own reaching the network; `extra` flags (e.g. a fake microphone). */
export function launchChromium(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extra,
    ],
  });
}

export async function startBrowser(t: TestContext, extra: string[] = []): Promise<Browser> {
  const browser = await launchChromium(extra);
  t.after(() => browser.close());
  return browser;
}

export interface DashboardPage {
  page: Page;
  /** Uncaught errors in the page; a test ends by asserting there were none. */
  errors: string[];
  /** Every URL the page asked for (the dashboard must work with no internet: all on the fleet). */
  requests: string[];
  shot(name: string): Promise<string>;
}

/** A fresh tab (own storage) at `viewport`, in `lang`, with the fleet's time zone differing from the browser's. */
export async function openPage(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; lang?: 'en' | 'zh-CN' } = {},
): Promise<DashboardPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    locale: options.lang ?? 'en',
    // The browser sits in UTC: times on the page must still read in the fleet's zone.
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  return {
    page,
    errors,
    requests,
    async shot(name) {
      await mkdir(ARTIFACTS, { recursive: true });
      const path = `${ARTIFACTS}${name}.png`;
      await page.screenshot({ path });
      return path;
    },
  };
}
