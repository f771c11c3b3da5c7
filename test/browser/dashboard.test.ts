/**
 * End to end: the built dashboard served by the real server on the shipped
 * demo models, driven in headless Chromium (the one scripts/ensure-browser.ts
 * finds). Every number the page shows is checked against an independent
 * GraphQL query for the same analysis (the page's own operations are not
 * reused here).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { browserPath, chartsReady, ensureBuilt, num, openPage as openRecordingPage, screenshot, statusReaches, tableRows } from './page-helpers.js';
/** The demo trio and probe sets the server registers at start. */
const TRIO = { base: 'demo/base', sft: 'demo/sft', rl: 'demo/rl' };
const PAIRS = 'demo/pairs';
const QUESTIONS = 'demo/questions';

let dir: string;
let server: RunningServer;
let origin: string;
let browser: Browser;

const openPage = () => openRecordingPage(browser);

async function api<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/**
 * Why the setup failed, if it did. Each test rethrows it, so a machine
 * without chromium fails every test with the reason (vitest would report a
 * throwing beforeAll as skipped tests).
 */
let setupError: Error | undefined;

function ready(): void {
  if (setupError) throw setupError;
}

beforeAll(async () => {
  try {
    await setUp();
  } catch (err) {
    setupError = err as Error;
  }
}, 180_000);

async function setUp(): Promise<void> {
  // throws with the command that installs one when there is no browser (npm test's pretest installs it)
  const executablePath = browserPath();
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-dashboard-'));
  // the shipped demo models and probe sets, a warehouse of our own
  server = await startServer({ ...loadConfig({}), port: 0, warehousePath: join(dir, 'warehouse.duckdb') });
  origin = new URL(server.url).origin;
  const { checkpoints, probeSets } = await api<{ checkpoints: { id: string }[]; probeSets: { id: string }[] }>('{ checkpoints { id } probeSets { id } }');
  const ids = checkpoints.map((c) => c.id);
  for (const id of Object.values(TRIO)) if (!ids.includes(id)) throw new Error(`the demo checkpoint '${id}' is not registered (data/demo incomplete?); registered: ${ids.join(', ')}`);
  for (const id of [PAIRS, QUESTIONS]) if (!probeSets.some((p) => p.id === id)) throw new Error(`the demo probe set '${id}' is not registered (data/probes/world missing?)`);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
}

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard in headless chromium', () => {
  test('loads at / from this server alone, with the catalog read through GraphQL', async () => {
    ready();
    const { context, page, problems, requests } = await openPage();
    try {
      await page.goto(`${origin}/`);
      await page.waitForSelector('[data-pickers] select[name="base"]');
      // the registered catalog, as the API lists it, fills the pickers
      const { checkpoints } = await api<{ checkpoints: { id: string }[] }>('{ checkpoints { id } }');
      const options = await page.$$eval('select[name="base"] option', (els) => els.map((e) => (e as HTMLOptionElement).value));
      expect(options.sort()).toEqual(checkpoints.map((c) => c.id).sort());
      expect(await page.inputValue('select[name="base"]')).toBe(TRIO.base);
      expect(await page.inputValue('select[name="sft"]')).toBe(TRIO.sft);
      expect(await page.inputValue('select[name="rl"]')).toBe(TRIO.rl);
      // the URL names the whole state from the start
      expect(page.url()).toContain('view=characterization');
      expect(page.url()).toContain(`sft=${TRIO.sft}`);
      expect(requests.length).toBeGreaterThan(2);
      for (const r of requests) expect(r.split(' ')[1]!.startsWith(`${origin}/`), r).toBe(true);
      expect(requests.filter((r) => r.includes('/graphql')).every((r) => r.startsWith('POST '))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  test('a characterization run from the UI shows exactly the numbers the API returns', async () => {
    ready();
    const { context, page, problems, operations } = await openPage();
    try {
      await page.goto(`${origin}/`);
      await page.click('[data-action="run"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'])).toBe('DONE');
      // a fresh warehouse: the run was started by the page, which polled run(id) until it was DONE, then read the rows
      expect(operations.filter((o) => o === 'CharacterizationLayers')).toHaveLength(2);
      expect(operations).toContain('RunStatus');
      await page.waitForSelector('[data-chart="characterization-spectrum"]', { timeout: 30_000 });
      await chartsReady(page);

      const expected = await api(
        `query($base: ID!, $sft: ID!, $rl: ID!) { characterization(base: $base, sft: $sft, rl: $rl, waitSeconds: 60) {
          status layers { index section sft { froNorm effectiveRank } rl { froNorm effectiveRank } } } }`,
        TRIO,
      );
      expect(expected.characterization.status).toBe('DONE');
      const layers: { index: number; section: string; sft: Record<string, number>; rl: Record<string, number> }[] = expected.characterization.layers;
      // vision blocks negative, projector 0, LLM positive: the index the charts are drawn over
      expect(layers.some((l) => l.index < 0 && l.section === 'VISION')).toBe(true);
      expect(layers.some((l) => l.index > 0 && l.section === 'LLM')).toBe(true);
      for (const metric of ['froNorm', 'effectiveRank']) {
        const shown = (await tableRows(page, `characterization-${metric}`)).map((r) => ({ index: num(r.index), series: r.series, value: num(r.value) }));
        const fromApi = layers.flatMap((l) => [
          { index: l.index, series: 'SFT', value: l.sft[metric]! },
          { index: l.index, series: 'RL', value: l.rl[metric]! },
        ]);
        expect(shown).toEqual(fromApi);
      }
      // the chart is drawn (two curves) over shaded regions
      const chartText = await page.locator('[data-chart="characterization-froNorm"] svg').first().textContent();
      for (const region of ['vision', 'projector', 'early', 'middle', 'late']) expect(chartText).toContain(region);
      expect(await page.locator('[data-chart="characterization-froNorm"] svg path.mark-line, [data-chart="characterization-froNorm"] svg g.mark-line path').count()).toBeGreaterThanOrEqual(2);

      // the spectrum of the chosen tensor is the API's top-k singular values
      const spectrum = await tableRows(page, 'characterization-spectrum');
      const tensor = spectrum[0]!.tensor!;
      expect(await page.inputValue('select[name="tensor"]')).toBe(tensor);
      const tensors = await api(
        `query($base: ID!, $sft: ID!, $rl: ID!) { characterization(base: $base, sft: $sft, rl: $rl, waitSeconds: 0) {
          tensors(first: 1000) { name sft { singularValues } rl { singularValues } } } }`,
        TRIO,
      );
      const row = tensors.characterization.tensors.find((t: { name: string }) => t.name === tensor);
      expect(spectrum.filter((r) => r.series === 'SFT').map((r) => num(r.value))).toEqual(row.sft.singularValues);
      expect(spectrum.filter((r) => r.series === 'RL').map((r) => num(r.value))).toEqual(row.rl.singularValues);

      // the CSV button downloads the same rows
      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-chart="characterization-froNorm"] [data-action="csv"]')]);
      expect(csv.suggestedFilename()).toBe('characterization-froNorm.csv');
      const lines = (await readFile((await csv.path())!, 'utf8')).trim().split('\r\n');
      expect(lines[0]).toBe('index,section,region,update,value');
      expect(lines.length - 1).toBe(layers.length * 2);
      const firstLayer = layers[0]!;
      expect(lines[1]!.split(',')[0]).toBe(String(firstLayer.index));
      expect(Number(lines[1]!.split(',')[4])).toBe(firstLayer.sft.froNorm);
      // vega-embed's action menu exports the chart itself
      await page.click('[data-chart="characterization-froNorm"] .vega-embed summary');
      const svgLink = page.locator('[data-chart="characterization-froNorm"] .vega-actions a', { hasText: 'SVG' });
      // vega-embed renders the image when the button is pressed and sets the link's address when ready
      await svgLink.dispatchEvent('mousedown');
      await page.waitForFunction((a) => /^(data|blob):/.test((a as HTMLAnchorElement).href), await svgLink.elementHandle());
      const [svg] = await Promise.all([page.waitForEvent('download'), svgLink.click()]);
      expect(svg.suggestedFilename()).toBe('characterization-froNorm.svg');
      expect(await readFile((await svg.path())!, 'utf8')).toMatch(/^<svg/);
      // the menu closes again (and stays out of the screenshot)
      await page.click('[data-chart="characterization-froNorm"] .vega-embed summary');
      expect(await page.locator('[data-chart="characterization-froNorm"] .vega-embed details[open]').count()).toBe(0);

      await screenshot(page, 'characterization');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('a visual-token swap run from the UI shows the API’s numbers, and its URL restores the view', async () => {
    ready();
    const { context, page, problems } = await openPage();
    try {
      await page.goto(`${origin}/`);
      await page.click('nav a[data-view="localization"]');
      await page.waitForSelector('select[name="analysis"]');
      expect(await page.inputValue('select[name="analysis"]')).toBe('swap');
      expect(await page.inputValue('select[name="model"]')).toBe(TRIO.sft);
      expect(await page.inputValue('select[name="probes"]')).toBe(PAIRS);
      await page.fill('[name="maxExamples"]', '2');
      await page.fill('[name="maxNewTokens"]', '8');
      await page.click('[data-action="run"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'])).toBe('DONE');
      await chartsReady(page);

      // the same analysis asked of the API: a cache hit on the run the page started
      const expected = await api(
        `query($model: ID!, $probeSet: ID!) { localization(model: $model, probeSet: $probeSet, method: VISUAL_TOKEN_SWAP,
          options: { maxExamples: 2, maxNewTokens: 8 }, waitSeconds: 60) { status run { id } layers { index task metric value ciLow ciHigh n } } }`,
        { model: TRIO.sft, probeSet: PAIRS },
      );
      expect(expected.localization.status).toBe('DONE');
      expect(await page.locator('.run-status .run-text').first().textContent()).toContain(`run ${expected.localization.run.id.slice(0, 8)}`);
      type Effect = { index: number | null; task: string; metric: string; value: number; ciLow: number | null; ciHigh: number | null; n: number };
      const effects: Effect[] = expected.localization.layers;
      const byKey = (e: { index: number | null; task: string }) => `${e.index}|${e.task}`;
      const shownRows = async (metric: string) =>
        (await tableRows(page, `localization-swap-${metric}`))
          .map((r) => ({ index: num(r.index), task: r.task!, metric: r.metric!, value: num(r.value)!, ciLow: num(r.ciLow), ciHigh: num(r.ciHigh), n: num(r.n)! }))
          .sort((a, b) => byKey(a).localeCompare(byKey(b)));
      for (const metric of ['change_rate', 'transfer_rate']) {
        const fromApi = effects.filter((e) => e.metric === metric && e.index !== null).sort((a, b) => byKey(a).localeCompare(byKey(b)));
        expect(fromApi.length).toBeGreaterThan(0);
        // every intervened LLM layer, each task and the pooled 'all'
        expect(new Set(fromApi.map((e) => e.task))).toContain('all');
        expect(await shownRows(metric)).toEqual(fromApi);
      }
      const changeRates = await shownRows('change_rate');
      const url = page.url();
      for (const part of ['view=localization', `sft=${TRIO.sft}`, `probes=${PAIRS}`, 'maxExamples=2', 'maxNewTokens=8', 'run=1']) expect(url).toContain(part);
      await screenshot(page, 'localization');

      // the shared link, opened in a fresh browser context, restores view, options and numbers
      const other = await openPage();
      try {
        await other.page.goto(url);
        expect(await statusReaches(other.page, ['DONE', 'FAILED', 'ERROR'])).toBe('DONE');
        await chartsReady(other.page);
        expect(await other.page.getAttribute('nav a.active', 'data-view')).toBe('localization');
        expect(await other.page.inputValue('select[name="analysis"]')).toBe('swap');
        expect(await other.page.inputValue('[name="maxExamples"]')).toBe('2');
        expect(await other.page.inputValue('[name="maxNewTokens"]')).toBe('8');
        expect(await other.page.inputValue('select[name="probes"]')).toBe(PAIRS);
        expect(
          (await tableRows(other.page, 'localization-swap-change_rate'))
            .map((r) => ({ index: num(r.index), task: r.task!, metric: r.metric!, value: num(r.value)!, ciLow: num(r.ciLow), ciHigh: num(r.ciHigh), n: num(r.n)! }))
            .sort((a, b) => byKey(a).localeCompare(byKey(b))),
        ).toEqual(changeRates);
        expect(other.problems).toEqual([]);
      } finally {
        await other.context.close();
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('the transferability table, a custom variant and the necessity rows show the API’s numbers', async () => {
    ready();
    const { context, page, problems } = await openPage();
    try {
      await page.goto(`${origin}/#view=transferability`);
      expect(await page.inputValue('select[name="probes"]')).toBe(QUESTIONS);
      await page.fill('[name="maxExamples"]', '1');
      await page.fill('[name="maxNewTokens"]', '8');
      await page.click('[data-action="run"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { timeout: 90_000 })).toBe('DONE');
      const options = { maxExamples: 1, maxNewTokens: 8 };
      const expected = await api(
        `query($sft: ID!, $rl: ID!, $probeSet: ID!, $options: AnalysisOptions) { transferability(sft: $sft, rl: $rl, probeSet: $probeSet, options: $options, waitSeconds: 60) {
          status rows { variant setting conditions { condition task accuracy } transition { conditionA conditionB nTT nTF nFT nFF netGain mcnemarP } } } }`,
        { sft: TRIO.sft, rl: TRIO.rl, probeSet: QUESTIONS, options },
      );
      expect(expected.transferability.status).toBe('DONE');
      type Row = { variant: string; setting: string; conditions: { condition: string; task: string; accuracy: number | null }[]; transition: Record<string, number | string> | null };
      const rows: Row[] = expected.transferability.rows;
      // IN, RL and the six splices in every setting the probe set supports
      expect(new Set(rows.map((r) => r.variant)).size).toBe(8);
      const shown = await tableRows(page, 'transferability-table');
      expect(shown.map((r) => `${r.variant}|${r.setting}`)).toEqual(rows.map((r) => `${r.variant}|${r.setting}`));
      rows.forEach((row, i) => {
        const cell = shown[i]!;
        const accuracy = (condition: unknown) => row.conditions.find((c) => c.task === 'all' && c.condition === condition)?.accuracy ?? null;
        if (row.transition) {
          expect(cell.conditionA).toBe(row.transition.conditionA);
          expect(num(cell.accA)).toBe(accuracy(row.transition.conditionA));
          expect(num(cell.accB)).toBe(accuracy(row.transition.conditionB));
          for (const key of ['nTT', 'nTF', 'nFT', 'nFF', 'netGain', 'mcnemarP']) expect(num(cell[key]), key).toBe(row.transition[key]);
        } else {
          expect(num(cell.accA)).toBe(row.conditions.find((c) => c.task === 'all')!.accuracy);
          expect(cell.mcnemarP).toBeNull();
        }
      });
      await chartsReady(page);

      // the builder's recipe, scored: the same variant (fingerprint) and accuracies as the API gives for that recipe
      await page.selectOption('select[name="vmethod"]', 'interpolate');
      await page.fill('[name="valpha"]', '0.5');
      await page.selectOption('select[name="vsetting"]', 'REASONING');
      await page.click('[data-action="score-variant"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { panel: 1, timeout: 60_000 })).toBe('DONE');
      await chartsReady(page);
      const recipe = JSON.parse((await page.textContent('[data-recipe]'))!);
      expect(recipe.operations[0]).toMatchObject({ op: 'interpolate', alpha: 0.5, donor: TRIO.rl });
      const variant = await api(
        `query($recipe: JSON!, $probeSet: ID!, $options: AnalysisOptions) { variant(recipe: { recipe: $recipe }) { fingerprint
          scores(probeSet: $probeSet, setting: REASONING, options: $options, waitSeconds: 60) { status conditions { condition task accuracy n } } } }`,
        { recipe, probeSet: QUESTIONS, options },
      );
      expect(variant.variant.scores.status).toBe('DONE');
      expect(await page.getAttribute('[data-fingerprint]', 'data-fingerprint')).toBe(variant.variant.fingerprint);
      const custom = (await tableRows(page, 'variant-accuracy')).filter((r) => r.fingerprint === variant.variant.fingerprint);
      expect(custom.map((r) => ({ condition: r.condition, task: r.task, accuracy: num(r.accuracy), n: num(r.n) }))).toEqual(variant.variant.scores.conditions);
      await screenshot(page, 'transferability');

      await page.click('nav a[data-view="necessity"]');
      await page.fill('[name="maxExamples"]', '1');
      await page.fill('[name="maxNewTokens"]', '8');
      await page.click('[data-action="run"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { timeout: 90_000 })).toBe('DONE');
      await chartsReady(page);
      const frozen = await page.$$eval('input[type="checkbox"][name^="frozen:"]:checked', (els) => els.map((e) => (e as HTMLInputElement).name.slice('frozen:'.length)));
      const necessity = await api(
        `query($sft: ID!, $rl: ID!, $frozen: [ID!]!, $probeSet: ID!, $options: AnalysisOptions) { necessity(sft: $sft, rl: $rl, frozen: $frozen, probeSet: $probeSet, options: $options, waitSeconds: 60) {
          status rows { variant kind setting condition accuracy gainOverIn shareOfRlGain } } }`,
        { sft: TRIO.sft, rl: TRIO.rl, frozen, probeSet: QUESTIONS, options },
      );
      expect(necessity.necessity.status).toBe('DONE');
      const necessityRows = (await tableRows(page, 'necessity-table')).map((r) => ({
        variant: r.variant,
        kind: r.kind,
        setting: r.setting,
        condition: r.condition,
        accuracy: num(r.accuracy),
        gainOverIn: num(r.gainOverIn),
        shareOfRlGain: num(r.shareOfRlGain),
      }));
      expect(necessityRows).toEqual(necessity.necessity.rows);
      // the frozen checkpoints registered (demo/rl-freeze-*) are scored, the proxies always
      expect(new Set(necessityRows.map((r) => r.kind))).toEqual(new Set(['in', 'rl', 'revert_proxy', 'reverse_proxy', ...(frozen.length ? ['frozen'] : [])]));
      await screenshot(page, 'necessity');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  test('a long run shows live progress from polling, and Cancel stops it', async () => {
    ready();
    const { context, page, problems } = await openPage();
    try {
      // every pair, every layer: long enough to watch
      await page.goto(`${origin}/#view=localization&analysis=ablation&probes=${PAIRS}&run=1`);
      expect(await statusReaches(page, ['RUNNING', 'DONE', 'FAILED', 'ERROR'])).toBe('RUNNING');
      const progress = () => page.locator('.run-status').first().getAttribute('data-progress').then(Number);
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.run-status')?.dataset.progress) > 0, undefined, { timeout: 60_000 });
      const seen = await progress();
      expect(await page.locator('.run-status .run-text').first().textContent()).toMatch(/polling run status/);
      await page.click('.run-status [data-action="cancel"]');
      expect(await statusReaches(page, ['FAILED', 'DONE', 'ERROR'])).toBe('FAILED');
      expect(await page.locator('.run-status .run-text').first().textContent()).toContain('cancelled by request');
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThan(1);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  test('an analysis the API refuses shows its reason instead of charts', async () => {
    ready();
    const { context, page } = await openPage();
    try {
      // swapping needs image pairs; the question set has none
      await page.goto(`${origin}/#view=localization&probes=demo/questions&maxExamples=1&run=1`);
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'])).toBe('ERROR');
      expect(await page.locator('.run-status .run-text').first().textContent()).toMatch(/pairs.*BAD_USER_INPUT/);
      expect(await page.locator('[data-chart]').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
