/** `frankenscope characterize`: the update characterization from a terminal. */
import { SingleBar, Presets } from 'cli-progress';
import { dirname, resolve } from 'node:path';
import { createApp } from '../app.js';
import type { AppConfig } from '../config.js';
import { toGroupUpdates, toLayerUpdates } from '../resolvers/characterization.mapping.js';
import { WarehouseError } from '../warehouse/index.js';
import { renderTable } from './format.js';

export interface CharacterizeCliOptions {
  base: string;
  sft: string;
  rl: string;
  weightFilter?: string;
  topK?: number;
  layerCuts?: number[];
  json?: boolean;
}

export async function characterizeCommand(config: AppConfig, opts: CharacterizeCliOptions): Promise<void> {
  const dirs = { base: resolve(opts.base), sft: resolve(opts.sft), rl: resolve(opts.rl) };
  // a terminal user may point anywhere they can read: their directories join the allowed roots
  const roots = [...config.modelRoots, ...Object.values(dirs).map((d) => dirname(d))];
  const app = await createApp({ ...config, modelRoots: roots }, { registerDemo: false }).catch((err: unknown) => {
    if (err instanceof WarehouseError && err.code === 'WAREHOUSE_LOCKED') {
      throw new Error(`${err.message}\n(a running server holds the warehouse: ask it instead with the GraphQL 'characterization' query, stop it, or set FRANKENSCOPE_WAREHOUSE to another file)`);
    }
    throw err;
  });
  const bar = new SingleBar({ format: 'characterize [{bar}] {percentage}% | {value}/{total} tensors | {tensor}', hideCursor: true }, Presets.shades_classic);
  try {
    const { registry, characterizations, warehouse, runs } = app.services;
    const ids: Record<string, string> = {};
    for (const role of ['base', 'sft', 'rl'] as const) {
      // ids allow a restricted alphabet: other characters of the path become '_'
      const id = `cli/${role}/${dirs[role].split('/').slice(-2).join('/')}`.replace(/[^A-Za-z0-9._\/-]/g, '_').slice(0, 128);
      const row = await registry.register(dirs[role], id);
      ids[role] = row.id;
    }
    const handle = await characterizations.start({
      base: ids.base!, sft: ids.sft!, rl: ids.rl!,
      options: { weightFilter: opts.weightFilter, topK: opts.topK, layerCuts: opts.layerCuts },
    });
    if (!opts.json && !handle.cached && process.stderr.isTTY) bar.start(100, 0, { tensor: '' });
    const ticker = setInterval(() => {
      const live = runs.liveProgress(handle.runId);
      if (live && process.stderr.isTTY && !opts.json) bar.update(Math.round(live.progress * 100), { tensor: live.message ?? '' });
    }, 200);
    await handle.settled;
    clearInterval(ticker);
    bar.stop();
    const [run] = await warehouse.getRuns([handle.runId]);
    if (!run || run.status !== 'DONE') throw new Error(`characterization failed: ${run?.error ?? 'unknown error'}`);
    const [layerRows] = await warehouse.layerStats([handle.runId]);
    const layers = toLayerUpdates(layerRows ?? []);
    const [groupRows] = await warehouse.groupStats([handle.runId]);
    const regions = toGroupUpdates(groupRows ?? [], 'region');
    if (opts.json) {
      process.stdout.write(JSON.stringify({ runId: handle.runId, cached: handle.cached, layers, regions }, null, 2) + '\n');
      return;
    }
    process.stdout.write(`run ${handle.runId}${handle.cached ? ' (from the warehouse)' : ''}\n`);
    process.stdout.write(
      renderTable(
        ['layer', 'section', 'region', 'n', 'SFT fro', 'RL fro', 'SFT rel', 'RL rel', 'SFT eff.rank', 'RL eff.rank', 'RL stable rank', 'cos', 'overlap'],
        layers.map((l) => [
          l.index, l.section, l.region ?? '', l.tensorCount, l.sft.froNorm, l.rl.froNorm, l.sft.relativeNorm, l.rl.relativeNorm,
          l.sft.effectiveRank, l.rl.effectiveRank, l.rl.stableRank, l.cosine, l.subspaceOverlap,
        ]),
      ) + '\n',
    );
    process.stdout.write('LLM regions (sum of fro over tensors):\n');
    process.stdout.write(
      renderTable(
        ['region', 'tensors', 'SFT fro sum', 'RL fro sum', 'RL eff.rank (mean)'],
        regions.map((g) => [g.key, g.tensorCount, g.sft.froNormSum, g.rl.froNormSum, g.rl.effectiveRank]),
      ) + '\n',
    );
  } finally {
    bar.stop();
    await app.close();
  }
}
