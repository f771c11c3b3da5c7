/** `frankenscope report`: the whole analysis of a trio as one self-contained HTML file. */
import { Presets, SingleBar } from 'cli-progress';
import { resolve } from 'node:path';
import type { AppConfig } from '../config.js';
import { writeReport } from '../report/index.js';
import { modelId, openCliApp, probeSetId } from './analysis.command.js';

export interface ReportCliOptions {
  base: string;
  sft: string;
  rl: string;
  probes: string;
  pairs?: string;
  frozen?: string[];
  layerCuts?: [number, number];
  maxExamples?: number;
  maxNewTokens?: number;
  out: string;
  /** --skip-invalid-examples, for --probes and --pairs given as paths */
  skipInvalidExamples?: boolean;
}

export async function reportCommand(config: AppConfig, o: ReportCliOptions): Promise<void> {
  const frozen = o.frozen ?? [];
  const app = await openCliApp(config, [o.base, o.sft, o.rl, o.probes, ...(o.pairs ? [o.pairs] : []), ...frozen]);
  const bar = new SingleBar({ format: 'report [{bar}] {percentage}% | {done}/{analyses} analyses done | {waiting}', hideCursor: true }, Presets.shades_classic);
  const tty = process.stderr.isTTY;
  let started = false;
  // without a terminal (CI logs, nohup) a line when an analysis finishes or every 30 s, instead of a redrawn bar
  let lastLine = { done: -1, at: 0 };
  try {
    const out = await writeReport(app, {
      base: await modelId(app, o.base),
      sft: await modelId(app, o.sft),
      rl: await modelId(app, o.rl),
      probes: await probeSetId(app, o.probes, o),
      pairs: o.pairs ? await probeSetId(app, o.pairs, o) : undefined,
      frozen: await Promise.all(frozen.map((f) => modelId(app, f))),
      layerCuts: o.layerCuts,
      maxExamples: o.maxExamples,
      maxNewTokens: o.maxNewTokens,
      path: resolve(o.out),
      onProgress: (done, total, waiting, fraction) => {
        if (!tty) {
          const now = Date.now();
          if (done === lastLine.done && now - lastLine.at < 30_000) return;
          lastLine = { done, at: now };
          process.stderr.write(`report: ${Math.round(100 * fraction)}% | ${done}/${total} analyses done | ${waiting ? `waiting for ${waiting}` : 'rendering'}\n`);
          return;
        }
        const payload = { done, analyses: total, waiting: waiting ? `waiting for ${waiting}` : 'rendering' };
        if (!started) bar.start(100, 0, payload);
        started = true;
        bar.update(Math.round(100 * fraction), payload);
      },
    });
    bar.stop();
    process.stdout.write(`wrote ${out.path} (${new Set(out.runIds).size} analysis runs)\n`);
  } finally {
    bar.stop();
    await app.close();
  }
}
