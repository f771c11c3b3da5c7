/**
 * The dashboard on a hub-layout Qwen2.5-VL trio (the format researchers bring):
 * the characterization and a zero-ablation localization started from the
 * page show exactly the API's numbers.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { writeHubQwenVl } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { writeSquaresPng } from '../../src/engine/fixtures/probe-images.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { browserPath, chartsReady, ensureBuilt, num, openPage, statusReaches, tableRows } from './page-helpers.js';

const TRIO = { base: 'hub/base', sft: 'hub/sft', rl: 'hub/rl' };
let dir: string;
let server: RunningServer;
let browser: Browser;
let setupError: Error | undefined;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: unknown; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

beforeAll(async () => {
  try {
    const executablePath = browserPath();
    await ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'frankenscope-hub-dashboard-'));
    const models = join(dir, 'models');
    for (const [role, seed] of [['base', 61], ['sft', 62], ['rl', 63]] as const) await writeHubQwenVl(join(models, 'hub', role), { family: 'qwen2_5_vl', seed, numLayers: 3 });
    const probes = join(models, 'probes', 'questions');
    await mkdir(join(probes, 'img'), { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 2; i++) {
      await writeSquaresPng(join(probes, 'img', `q${i}.png`), 2 + i, i, 56 + 28 * i);
      lines.push(JSON.stringify({ id: `r${i}`, split: 'reasoning', task: 'numeric', prompt: `What is ${i} + 2?`, answer: String(i + 2) }));
      lines.push(JSON.stringify({ id: `p${i}`, split: 'perception', task: 'counting', prompt: '<image>How many squares?', image: `img/q${i}.png`, answer: String(2 + i) }));
    }
    await writeFile(join(probes, 'probes.jsonl'), lines.join('\n') + '\n');
    // the same questions plus one whose image does not decode, registered without it
    const partial = join(models, 'probes', 'partial');
    await mkdir(join(partial, 'img'), { recursive: true });
    for (let i = 0; i < 2; i++) await writeSquaresPng(join(partial, 'img', `q${i}.png`), 2 + i, i, 56 + 28 * i);
    await writeFile(join(partial, 'img', 'broken.png'), 'no image in here');
    await writeFile(join(partial, 'probes.jsonl'), [...lines, JSON.stringify({ id: 'p9', split: 'perception', task: 'counting', prompt: '<image>How many squares?', image: 'img/broken.png', answer: '1' })].join('\n') + '\n');
    server = await startServer({ ...loadConfig({}), port: 0, warehousePath: join(dir, 'warehouse.duckdb'), modelRoots: [models], demoDir: join(dir, 'none'), demoProbesDir: join(dir, 'none') });
    for (const role of ['base', 'sft', 'rl']) await api(`mutation { registerCheckpoint(path: "hub/${role}", name: "hub/${role}") { id } }`);
    await api('mutation { registerProbeSet(path: "probes/questions", name: "hub/questions") { id } }');
    await api('mutation { registerProbeSet(path: "probes/partial", name: "hub/partial", skipInvalidExamples: true) { id } }');
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], headless: true });
  } catch (err) {
    setupError = err as Error;
  }
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dashboard on a hub-layout Qwen2.5-VL trio', () => {
  test('characterization and zero ablation from the page show the API\'s numbers', async () => {
    if (setupError) throw setupError;
    const origin = new URL(server.url).origin;
    const { context, page, problems } = await openPage(browser);
    try {
      await page.goto(`${origin}/#view=characterization&base=${TRIO.base}&sft=${TRIO.sft}&rl=${TRIO.rl}`);
      await page.click('[data-action="run"]');
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { timeout: 120_000 })).toBe('DONE');
      await chartsReady(page);
      const expected = await api(`query($base: ID!, $sft: ID!, $rl: ID!) { characterization(base: $base, sft: $sft, rl: $rl, waitSeconds: 60) { status layers { index sft { froNorm } rl { froNorm } } } }`, TRIO);
      const shown = (await tableRows(page, 'characterization-froNorm')).map((r) => ({ index: num(r.index), series: r.series, value: num(r.value) }));
      const layers: { index: number; sft: { froNorm: number }; rl: { froNorm: number } }[] = expected.characterization.layers;
      expect(shown).toEqual(layers.flatMap((l) => [{ index: l.index, series: 'SFT', value: l.sft.froNorm }, { index: l.index, series: 'RL', value: l.rl.froNorm }]));

      await page.goto(`${origin}/#view=localization&analysis=ablation&sft=${TRIO.sft}&rl=${TRIO.rl}&base=${TRIO.base}&probes=hub/questions&maxNewTokens=2&run=1`);
      expect(await statusReaches(page, ['DONE', 'FAILED', 'ERROR'], { timeout: 120_000 })).toBe('DONE');
      await chartsReady(page);
      const ablation = await api(`{ localization(model: "${TRIO.sft}", probeSet: "hub/questions", method: ZERO_ABLATION, options: { maxNewTokens: 2 }, waitSeconds: 60) { status layers { index task metric value } } }`);
      expect(ablation.localization.status).toBe('DONE');
      const fromApi = ablation.localization.layers
        .filter((l: { index: number | null; metric: string }) => l.index !== null && l.metric === 'accuracy')
        .map((l: { index: number; task: string; value: number }) => ({ index: l.index, task: l.task, value: l.value }))
        .sort((x: { index: number; task: string }, y: { index: number; task: string }) => x.index - y.index || x.task.localeCompare(y.task));
      expect(new Set(fromApi.map((r: { index: number }) => r.index))).toEqual(new Set([1, 2, 3]));
      const shownAblation = (await tableRows(page, 'localization-ablation-accuracy')).map((r) => ({ index: num(r.index), task: r.task, value: num(r.value) }));
      expect(shownAblation).toEqual(fromApi);
      // the picker says which set was registered without some examples, and how many
      const probeLabels = await page.$$eval('select[name="probes"] option', (options) => options.map((o) => o.textContent));
      expect(probeLabels).toContain('hub/questions (jsonl, 4 examples)');
      expect(probeLabels).toContain('hub/partial (jsonl, 4 examples, 1 left out)');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 300_000);
});
