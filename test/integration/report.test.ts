/**
 * `frankenscope report` on the shipped demo models (one example per task,
 * short generations, so it stays quick): the HTML is self-contained, has
 * every section and chart, its transferability table and its RL-vs-IN line
 * show the numbers the GraphQL API returns for the same request, a second
 * report reads the same runs from the warehouse and renders identically,
 * and a bad id fails before anything is written.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphql } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { formatValue, ReportQueryError, writeReport } from '../../src/report/index.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { createRequestContext } from '../../src/resolvers/context.js';

let dir: string;
let app: App;
const now = new Date(Date.UTC(2026, 0, 2));
const request = {
  base: 'demo/base', sft: 'demo/sft', rl: 'demo/rl', probes: 'demo/questions', pairs: 'demo/pairs',
  frozen: ['demo/rl-freeze-late'], maxExamples: 1, maxNewTokens: 8,
};
let first: Awaited<ReturnType<typeof writeReport>>;
let html: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-'));
  app = await createApp({ ...loadConfig({}), warehousePath: join(dir, 'w.duckdb'), modelRoots: [dir], port: 0 });
  first = await writeReport(app, { ...request, path: join(dir, 'report.html'), now });
  html = await readFile(first.path, 'utf8');
}, 240_000);

afterAll(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The text of each cell of the table rows whose first cell is `variant` and second `setting`. */
function transferRow(variant: string, setting: string): string[] | undefined {
  const table = html.slice(html.indexOf('<table class="transfer">'));
  for (const row of table.slice(0, table.indexOf('</table>')).matchAll(/<tr>(.*?)<\/tr>/g)) {
    const cells = [...row[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]!);
    if (cells[0] === variant && cells[1] === setting) return cells;
  }
  return undefined;
}

describe('frankenscope report', () => {
  it('is one self-contained document with every section and its charts', () => {
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|<script/i);
    for (const id of ['summary', 'characterization', 'localization', 'attention', 'patching', 'transferability', 'necessity']) expect(html).toContain(`id="${id}"`);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(10);
    // the characterization curves: one per phase, named in the legend
    const svg = html.slice(html.indexOf('id="characterization"'), html.indexOf('id="localization"'));
    expect(svg).toContain('SFT: Base→IN');
    expect(svg).toContain('RL: IN→RL');
  });

  it('shows the transferability numbers the API returns', async () => {
    const result = await graphql({
      schema: await buildAppSchema(),
      source: `{ transferability(sft: "demo/sft", rl: "demo/rl", probeSet: "demo/questions", options: { maxExamples: 1, maxNewTokens: 8 }, waitSeconds: 60) {
        status rows { variant setting conditions { task accuracy ciLow ciHigh n } } } }`,
      contextValue: createRequestContext(app.services),
    });
    expect(result.errors).toBeUndefined();
    const data = result.data as { transferability: { status: string; rows: { variant: string; setting: string; conditions: { task: string; accuracy: number; ciLow: number; ciHigh: number; n: number }[] }[] } };
    expect(data.transferability.status).toBe('DONE');
    expect(data.transferability.rows.length).toBe(8 * 3);
    for (const row of data.transferability.rows) {
      const cells = transferRow(row.variant, row.setting);
      expect(cells, `${row.variant} ${row.setting}`).toBeDefined();
      const a = row.conditions.filter((c) => c.task === 'all')[0]!;
      expect(cells![2]).toBe(`${formatValue(a.accuracy)} [${formatValue(a.ciLow)}, ${formatValue(a.ciHigh)}]`);
      expect(cells!.at(-1)).toBe(String(a.n));
    }
  });

  it('states RL against IN with the transition counts of the API', async () => {
    const result = await graphql({
      schema: await buildAppSchema(),
      source: `{ variant(recipe: { model: "demo/rl" }) { transitions(versus: { model: "demo/sft" }, probeSet: "demo/questions", setting: REASONING,
        options: { maxExamples: 1, maxNewTokens: 8 }, waitSeconds: 60) { task n nTF nFT } } }`,
      contextValue: createRequestContext(app.services),
    });
    const all = (result.data as { variant: { transitions: { task: string; n: number; nTF: number; nFT: number }[] } }).variant.transitions.find((t) => t.task === 'all')!;
    expect(html).toContain(`on ${all.n} questions (RL right where IN was wrong: ${all.nTF}, the reverse: ${all.nFT};`);
  });

  it('reads the same runs on a second report and renders the same document', async () => {
    const second = await writeReport(app, { ...request, path: join(dir, 'again.html'), now });
    expect(second.runIds).toEqual(first.runIds);
    expect(await readFile(second.path, 'utf8')).toBe(html);
  });

  it('refuses an unknown checkpoint before writing anything', async () => {
    const path = join(dir, 'bad.html');
    const error = await writeReport(app, { ...request, rl: 'demo/nope', path }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportQueryError);
    expect((error as ReportQueryError).code).toBe('NOT_FOUND');
    expect((error as Error).message).toContain("'demo/nope'");
    expect(existsSync(path)).toBe(false);
  });
});
