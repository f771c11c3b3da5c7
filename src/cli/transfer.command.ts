/** `frankenscope transfer`: the reference's transferability table (IN, RL, six splices x settings). */
import { Presets, SingleBar } from 'cli-progress';
import type { Setting } from '../engine/analyses/score-variant.js';
import type { AppConfig } from '../config.js';
import { toConditionScores, toTransitions } from '../resolvers/variant.mapping.js';
import { Setting as SettingEnum } from '../schema/variant.type.js';
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
    const probes = await probeSetId(app, opts.probes);
    const service = app.services.variants;
    const variants = await service.referenceVariants(sft, rl, opts.layerCuts);
    const settings = await service.settingsOf(probes, variants.every((v) => v.hasVision));
    const jobs: { label: string; setting: Setting; runId: string; settled: Promise<void> }[] = [];
    for (const variant of variants) {
      for (const setting of settings) {
        const handle = await service.score(variant, probes, setting, requestOptions(opts));
        jobs.push({ label: variant.label, setting, runId: handle.runId, settled: handle.settled });
      }
    }
    const tty = process.stderr.isTTY && !opts.json;
    if (tty) bar.start(jobs.length, 0);
    let finished = 0;
    await Promise.all(jobs.map((j) => j.settled.then(() => tty && bar.update(++finished))));
    bar.stop();
    const runs = await app.services.warehouse.getRuns(jobs.map((j) => j.runId));
    const failed = runs.find((r) => r?.status !== 'DONE');
    if (failed) throw new Error(`a scoring run failed: ${failed.error ?? failed.status}`);
    const effects = await app.services.warehouse.layerEffects(jobs.map((j) => j.runId));
    const rows = jobs.map((j, i) => ({
      variant: j.label,
      setting: j.setting,
      conditions: toConditionScores(effects[i]!, j.setting as SettingEnum).filter((c) => c.task === 'all'),
      transition: toTransitions(effects[i]!, j.setting as SettingEnum).find((t) => t.task === 'all') ?? null,
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
