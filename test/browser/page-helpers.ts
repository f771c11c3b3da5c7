/** Helpers of the dashboard's browser tests: the build, pages that record what they do, and reading the page's state. */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** The browser the tests drive: CHROME_PATH, the system's chromium / google-chrome, or Playwright's cache (scripts/ensure-browser.ts, run by `npm test`'s pretest). */
export { browserPath } from '../../scripts/ensure-browser.js';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WEB = join(ROOT, 'web');
const DIST_INDEX = join(WEB, 'dist', 'index.html');
const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');

/** The newest modification time among the dashboard's sources. */
function newestSource(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestSource(join(path, name))));
}

/** Builds web/dist unless it is newer than every source it is built from. */
export async function ensureBuilt(): Promise<void> {
  const sources = [join(WEB, 'src'), join(WEB, 'index.html'), join(WEB, 'vite.config.ts')];
  if (existsSync(DIST_INDEX) && statSync(DIST_INDEX).mtimeMs >= Math.max(...sources.map(newestSource))) return;
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(WEB, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: ROOT, timeout: 120_000 });
}

/** A fresh page that records page errors, console errors, every request it makes and the GraphQL operations it sends. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page; problems: string[]; requests: string[]; operations: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  const operations: string[] = [];
  page.on('request', (req) => {
    requests.push(`${req.method()} ${req.url()}`);
    const query = req.url().endsWith('/graphql') ? (JSON.parse(req.postData() ?? '{}') as { query?: string }).query : undefined;
    const name = query?.match(/\b(?:query|mutation)\s+(\w+)/)?.[1];
    if (name) operations.push(name);
  });
  return { context, page, problems, requests, operations };
}

/** Waits until a run-status panel (the first by default) reaches one of `states`, and returns the state. */
export async function statusReaches(page: Page, states: string[], options: { panel?: number; timeout?: number } = {}): Promise<string> {
  const panel = options.panel ?? 0;
  await page.waitForFunction(
    ([wanted, i]) => (wanted as string[]).includes(document.querySelectorAll<HTMLElement>('.run-status')[i as number]?.dataset.status ?? ''),
    [states, panel] as const,
    { timeout: options.timeout ?? 90_000 },
  );
  return (await page.locator('.run-status').nth(panel).getAttribute('data-status'))!;
}

export async function chartsReady(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const cards = [...document.querySelectorAll<HTMLElement>('[data-chart-state]')];
    return cards.length > 0 && cards.every((c) => c.dataset.chartState === 'ready');
  });
}

/** The rows of a chart's data table: column -> exact value (data-value), as the page holds them. */
export function tableRows(page: Page, chartId: string): Promise<Record<string, string | null>[]> {
  return page.$$eval(`[data-chart="${chartId}"] table[data-table] tr[data-row]`, (rows) =>
    rows.map((row) => Object.fromEntries([...row.querySelectorAll<HTMLElement>('td')].map((td) => [td.dataset.col!, td.dataset.value ?? null]))),
  );
}

export const num = (text: string | null | undefined) => (text === null || text === undefined ? null : Number(text));

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
