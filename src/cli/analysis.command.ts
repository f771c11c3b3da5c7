/**
 * `frankenscope localize | attention-shift | patch`: the functional analyses
 * from a terminal, stored in the warehouse, with a progress bar and a
 * per-layer table.
 */
import { Presets, SingleBar } from 'cli-progress';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createApp, type App } from '../app.js';
import type { AppConfig } from '../config.js';
import type { AnalysisRequestOptions } from '../services/analysis-service.js';
import type { RunHandle } from '../services/run-manager.js';
import { WarehouseError } from '../warehouse/index.js';
import { formatNumber, renderTable } from './format.js';

export interface AnalysisCliOptions {
  layers?: number[];
  tasks?: string[];
  split?: string;
  maxExamples?: number;
  teacherForced?: boolean;
  maxNewTokens?: number;
  /** --chat / --no-chat; absent: the model's default */
  chat?: boolean;
  batchSize?: number;
  json?: boolean;
  /** --skip-invalid-examples: a probe set registered from a path leaves out examples with unusable images */
  skipInvalidExamples?: boolean;
}

/** Opens the app with the given paths allowed (a terminal user may read what they can read). */
export async function openCliApp(config: AppConfig, paths: string[]): Promise<App> {
  const roots = [...config.modelRoots, ...paths.filter((p) => existsSync(p)).map((p) => dirname(resolve(p)))];
  return createApp({ ...config, modelRoots: roots }).catch((err: unknown) => {
    if (err instanceof WarehouseError && err.code === 'WAREHOUSE_LOCKED') {
      throw new Error(`${err.message}\n(a running server holds the warehouse: use its GraphQL API, stop it, or set FRANKENSCOPE_WAREHOUSE to another file)`);
    }
    throw err;
  });
}

/** A registered checkpoint id, or a directory registered on the fly. */
export async function modelId(app: App, value: string): Promise<string> {
  const [row] = await app.services.warehouse.getCheckpoints([value]);
  if (row) return row.id;
  return (await app.services.registry.register(resolve(value))).id;
}

/** How many left-out examples the CLI names before summarising the rest. */
const SKIPPED_SHOWN = 10;

/**
 * A registered probe set id, or a folder / .jsonl file registered on the fly
 * (with `skipInvalidExamples`, without the examples whose images cannot be
 * used; they are named on stderr, so --json output stays one document).
 */
export async function probeSetId(app: App, value: string, options: { skipInvalidExamples?: boolean } = {}): Promise<string> {
  const [row] = await app.services.warehouse.getProbeSets([value]);
  if (row) return row.id;
  const registered = await app.services.probeSets.register(resolve(value), undefined, { skipInvalidExamples: options.skipInvalidExamples ?? false });
  const skipped = registered.skipped;
  if (skipped.length > 0) {
    const named = skipped.slice(0, SKIPPED_SHOWN).map((s) => `  ${s.id}: ${s.reason}`);
    if (skipped.length > SKIPPED_SHOWN) named.push(`  ... and ${skipped.length - SKIPPED_SHOWN} more (all in probe_sets.skipped_examples)`);
    process.stderr.write(`frankenscope: probe set '${registered.id}' registered with ${registered.nExamples} examples, without ${skipped.length} whose images cannot be used:\n${named.join('\n')}\n`);
  }
  return registered.id;
}

export function requestOptions(o: AnalysisCliOptions): AnalysisRequestOptions {
  return {
    layers: o.layers,
    tasks: o.tasks,
    split: o.split,
    maxExamples: o.maxExamples,
    scoring: o.teacherForced ? 'TEACHER_FORCED' : 'GENERATE',
    maxNewTokens: o.maxNewTokens,
    chat: o.chat,
    batchSize: o.batchSize,
  };
}

/** Waits for the run with a progress bar, then prints its per-layer numbers ('all' tasks) as a table or JSON. */
export async function finishAnalysis(app: App, handle: RunHandle, json: boolean | undefined): Promise<void> {
  const bar = new SingleBar({ format: 'analysis [{bar}] {percentage}% | {message}', hideCursor: true }, Presets.shades_classic);
  const tty = process.stderr.isTTY && !json && !handle.cached;
  if (tty) bar.start(100, 0, { message: '' });
  const ticker = setInterval(() => {
    const live = app.services.runs.liveProgress(handle.runId);
    if (live && tty) bar.update(Math.round(live.progress * 100), { message: live.message ?? '' });
  }, 200);
  try {
    await handle.settled;
  } finally {
    clearInterval(ticker);
    bar.stop();
  }
  const [run] = await app.services.warehouse.getRuns([handle.runId]);
  if (!run || run.status !== 'DONE') throw new Error(`analysis failed: ${run?.error ?? 'unknown error'}`);
  const [effects] = await app.services.warehouse.layerEffects([handle.runId]);
  const rows = effects ?? [];
  if (json) {
    process.stdout.write(JSON.stringify({ runId: handle.runId, cached: handle.cached, layers: rows.map(({ runId: _r, ...rest }) => rest) }, null, 2) + '\n');
    return;
  }
  const all = rows.filter((r) => r.task === 'all');
  const metrics = [...new Set(all.map((r) => r.metric))];
  const indices = [...new Set(all.map((r) => r.layerIndex))].sort((a, b) => (a ?? -1e9) - (b ?? -1e9));
  const cell = (index: number | null, metric: string) => {
    const r = all.find((x) => x.layerIndex === index && x.metric === metric);
    if (!r || r.value === null) return '';
    return r.ciLow === null ? formatNumber(r.value) : `${formatNumber(r.value)} [${formatNumber(r.ciLow)}, ${formatNumber(r.ciHigh)}]`;
  };
  process.stdout.write(`run ${handle.runId}${handle.cached ? ' (from the warehouse)' : ''}; values over all tasks with 95% bootstrap intervals\n`);
  process.stdout.write(renderTable(['layer', ...metrics], indices.map((i) => [i === null ? 'baseline' : i, ...metrics.map((m) => cell(i, m))])) + '\n');
}
