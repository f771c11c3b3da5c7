/**
 * Regenerates docs/screenshots/*.png: the dashboard as a user gets it by
 * default. It builds web/dist if needed, starts the real server on the
 * shipped demo models with a warehouse of its own, and in headless Chromium
 * opens each view, presses **Run** without touching any option (so every
 * analysis runs with the server's defaults: every example of every task,
 * 128 new tokens), waits until the runs are DONE and the charts are drawn,
 * and saves the page.
 *
 *   npx tsx scripts/screenshots.ts [--only characterization,localization,…] [--out dir] [--warehouse file]
 *
 * On an empty warehouse the functional views compute everything the demo
 * trio's report computes (about half an hour on 2 cores, docs/report.md);
 * `--warehouse file` keeps the results in that file (created if missing) so
 * a second run answers from it. After each view it prints the numbers the
 * picture shows, fetched from the API, and fails if they are degenerate
 * (all equal), so a screenshot never shows a run too small to mean anything.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { chartsReady, ensureBuilt, openPage, statusReaches } from '../test/browser/page-helpers.js';
import { browserPath } from './ensure-browser.js';

const VIEWS = ['characterization', 'localization', 'transferability', 'necessity'] as const;
type View = (typeof VIEWS)[number];
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A full run on 2 cores takes minutes; the page polls until it is DONE. */
const RUN_TIMEOUT_MS = 3 * 60 * 60 * 1000;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'docs', 'screenshots') },
    warehouse: { type: 'string' },
  },
});
const only = values.only ? values.only.split(',').map((v) => v.trim()) : [...VIEWS];
for (const v of only) if (!(VIEWS as readonly string[]).includes(v)) throw new Error(`--only: unknown view '${v}' (views: ${VIEWS.join(', ')})`);
const outDir = resolve(values.out!);

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`;
const log = (line: string) => console.log(`[${elapsed()}] ${line}`);

let url = '';
async function api<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** The analysis the page ran, answered from the warehouse: anything but DONE means the defaults differ. */
function done<T extends { status: string }>(what: string, result: T): T {
  if (result.status !== 'DONE') throw new Error(`${what} asked of the API with the defaults is ${result.status}, not DONE: not the run the page showed`);
  return result;
}

/** Fails unless `values` holds at least two distinct numbers: a picture of one value everywhere says nothing. */
function notDegenerate(what: string, numbers: (number | null | undefined)[]): void {
  const finite = numbers.filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  const distinct = new Set(finite.map((n) => n.toPrecision(6)));
  log(`  ${what}: ${finite.length} values, ${distinct.size} distinct, min ${Math.min(...finite).toPrecision(4)}, max ${Math.max(...finite).toPrecision(4)}`);
  if (distinct.size < 2) throw new Error(`${what} is degenerate (${finite.length} values, ${distinct.size} distinct): the screenshot would show nothing`);
}

/** Presses Run on the current view and waits for DONE and drawn charts. */
async function runView(page: Page): Promise<void> {
  await page.click('[data-action="run"]');
  const status = await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { timeout: RUN_TIMEOUT_MS });
  if (status !== 'DONE') throw new Error(`the run ended ${status}: ${await page.locator('.run-status').first().textContent()}`);
  await chartsReady(page);
}

/** The data behind each view, at the defaults the page used (no options), checked for degeneracy. */
const checks: Record<View, () => Promise<void>> = {
  async characterization() {
    const characterization = done('characterization', (await api(`{ characterization(base: "demo/base", sft: "demo/sft", rl: "demo/rl", waitSeconds: 60) { status layers { sft { froNorm } rl { froNorm } } } }`)).characterization);
    notDegenerate('per-layer Frobenius norm of the updates', characterization.layers.flatMap((l: any) => [l.sft.froNorm, l.rl.froNorm]));
  },
  async localization() {
    const localization = done('localization', (await api(`{ localization(model: "demo/sft", probeSet: "demo/pairs", method: VISUAL_TOKEN_SWAP, waitSeconds: 60) { status layers { task metric value n } } }`)).localization);
    const rows = localization.layers.filter((r: any) => r.task === 'all');
    for (const metric of new Set<string>(rows.map((r: any) => r.metric))) notDegenerate(`swap ${metric} per layer (all tasks)`, rows.filter((r: any) => r.metric === metric).map((r: any) => r.value));
  },
  async transferability() {
    const transferability = done('transferability', (await api(`{ transferability(sft: "demo/sft", rl: "demo/rl", probeSet: "demo/questions", waitSeconds: 60) { status rows { variant setting conditions { task accuracy n } } } }`)).transferability);
    const all = transferability.rows.flatMap((r: any) => r.conditions.filter((c: any) => c.task === 'all'));
    log(`  examples per condition: ${[...new Set(all.map((c: any) => c.n))].join(', ')}`);
    notDegenerate('accuracy of IN, RL and the splices (all tasks)', all.map((c: any) => c.accuracy));
  },
  async necessity() {
    const { checkpoints } = await api<{ checkpoints: { id: string }[] }>('{ checkpoints { id } }');
    const frozen = checkpoints.map((c) => c.id).filter((id) => id.includes('freeze'));
    const necessity = done('necessity', (await api(`query($frozen: [ID!]!) { necessity(sft: "demo/sft", rl: "demo/rl", frozen: $frozen, probeSet: "demo/questions", waitSeconds: 60) { status rows { variant kind accuracy } } }`, { frozen })).necessity);
    log(`  kinds: ${[...new Set(necessity.rows.map((r: any) => r.kind))].join(', ')}`);
    notDegenerate('accuracy of RL, IN, frozen and proxies', necessity.rows.map((r: any) => r.accuracy));
  },
};

async function main(): Promise<void> {
  const executablePath = browserPath();
  await ensureBuilt();
  const scratch = await mkdtemp(join(tmpdir(), 'frankenscope-screenshots-'));
  const warehousePath = values.warehouse ? resolve(values.warehouse) : join(scratch, 'warehouse.duckdb');
  const server = await startServer({ ...loadConfig({}), port: 0, warehousePath });
  url = server.url;
  const origin = new URL(server.url).origin;
  log(`server ${origin} on the demo models, warehouse ${warehousePath}; browser ${executablePath}`);
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  try {
    await mkdir(outDir, { recursive: true });
    for (const view of only as View[]) {
      const { context, page, problems } = await openPage(browser);
      try {
        log(`${view}: Run with the default settings`);
        await page.goto(`${origin}/#view=${view}`);
        await page.waitForSelector('[data-action="run"]');
        await runView(page);
        await checks[view]();
        if (problems.length) throw new Error(`the page reported problems: ${problems.join('; ')}`);
        const path = join(outDir, `${view}.png`);
        await page.screenshot({ path, fullPage: true });
        log(`${view}: wrote ${path}`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  }
  log('done');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
