/** `frankenscope transfer`: the reference's transferability table (IN, RL, six splices x settings). */
import { Presets, SingleBar } from 'cli-progress';
import type { AppConfig } from '../config.js';
import { toConditionScores, toTransitions } from '../resolvers/variant.mapping.js';
import { Setting as SettingEnum } from '../schema/variant.type.js';
import { collectGrid, startGrid } from '../services/score-grid.js';
import { formatNumber, renderTable } from './format.js';
import { modelId, openCliApp, probeSetId, requestOptions, type AnalysisCliOptions } from './analysis.command.js';

export interface TransferCliOptions extends AnalysisCliOptions {
  sft: string;
  rl: string;
  probes: string;
  layerCuts?: number[];
}

export async function transferCommand(config: AppConfig, opts: TransferCliOptions): Promise<void> {
  const app = await openCliApp(config, [opts.sft, opts.rl, opts.probes]);
  const bar = new SingleBar({ format: 'transfer [{bar}] {value}/{total} runs', hideCursor: true }, Presets.shades_classic);
  try {
    const sft = await modelId(app, opts.sft);
    const rl = await modelId(app, opts.rl);
    const probes = await probeSetId(app, opts.probes, opts);
    const variants = await app.services.variants.referenceVariants(sft, rl, opts.layerCuts);
    const jobs = await startGrid(app.services.variants, variants.map((variant) => ({ variant })), probes, requestOptions(opts));
    const tty = process.stderr.isTTY && !opts.json;
    if (tty) bar.start(jobs.length, 0);
    let finished = 0;
    await Promise.all(jobs.map((j) => j.settled.then(() => tty && bar.update(++finished))));
    bar.stop();
    const grid = await collectGrid(app.services.warehouse, app.services.runs, jobs);
    const failed = grid.runs.find((r) => r.status !== 'DONE');
    if (failed) throw new Error(`a scoring run failed: ${failed.error ?? failed.status}`);
    const rows = grid.done.map((cell) => ({
      variant: cell.entry.variant.label,
      setting: cell.setting,
      conditions: toConditionScores(cell.effects, cell.setting as SettingEnum).filter((c) => c.task === 'all'),
      transition: toTransitions(cell.effects, cell.setting as SettingEnum).find((t) => t.task === 'all') ?? null,
    }));
    if (opts.json) {
      process.stdout.write(JSON.stringify({ sft, rl, probeSet: probes, rows }, null, 2) + '\n');
      return;
    }
    const acc = (c: { accuracy: number | null; ciLow: number | null; ciHigh: number | null } | undefined) =>
      c && c.accuracy !== null ? `${formatNumber(c.accuracy)} [${formatNumber(c.ciLow)}, ${formatNumber(c.ciHigh)}]` : '';
    process.stdout.write(`IN = ${sft}, RL = ${rl}, probes = ${probes}; accuracies with 95% bootstrap intervals; A = with the image\n`);
    process.stdout.write(
      renderTable(
        ['variant', 'setting', 'acc A', 'acc B', 'delta', 'net gain', 'side effect', 'lift', 'McNemar p', 'n'],
        rows.map((r) => [
          r.variant, r.setting, acc(r.conditions[0]), acc(r.conditions[1]),
          r.transition?.delta ?? null, r.transition?.netGain ?? null, r.transition?.sideEffectRate ?? null, r.transition?.liftRate ?? null, r.transition?.mcnemarP ?? null,
          r.conditions[0]?.n ?? null,
        ]),
      ) + '\n',
    );
  } finally {
    bar.stop();
    await app.close();
  }
}
