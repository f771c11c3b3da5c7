/** `frankenscope run`: a smoke test of the engine on any checkpoint directory. */
import { resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { loadChatTemplate, renderChatPrompt } from '../engine/model/chat.js';
import { buildPrompt } from '../engine/model/prompt.js';
import { loadVisionImage } from '../engine/model/vision-images.js';
import { visualTokenCount } from '../engine/model/vision-input.js';
import { TextTokenizer } from '../engine/model/tokenizer.js';
import type { Hook } from '../engine/runtime/hooks.js';
import { HookedRunner } from '../engine/runtime/runner.js';
import { CheckpointWeights } from '../engine/runtime/weights.js';

export interface RunCliOptions {
  model: string;
  prompt: string;
  /** image files, one per `<image>` marker in order */
  image?: string[];
  maxNewTokens: number;
  chat?: boolean;
  json?: boolean;
}

/** Seconds spent in each stage of one run. */
export interface RunTimings {
  /** opening the checkpoint, tokenizer, images, compiling sessions (weights are read lazily, in the pass that first needs them) */
  load: number;
  /** vision tower and projector (0 without images), embedding lookup included */
  vision: number;
  /** the prompt pass through the decoder and the head, reading and widening the layers it needs */
  prefill: number;
  /** every later generated token */
  decode: number;
}

const round = (s: number): number => Math.round(s * 1000) / 1000;

export async function runCommand(opts: RunCliOptions): Promise<void> {
  const t0 = performance.now();
  const weights = await CheckpointWeights.open(resolve(opts.model));
  try {
    const tokenizer = await TextTokenizer.load(resolve(opts.model));
    const config = weights.config;
    const images = await Promise.all((opts.image ?? []).map((file) => loadVisionImage(resolve(file), config)));
    const counts = images.map((img) => visualTokenCount(img.grid, config.vision!.spatialMergeSize));
    const prompt = opts.chat ? renderChatPrompt(opts.prompt, images.length, await loadChatTemplate(resolve(opts.model)), config, tokenizer) : opts.prompt;
    const { ids } = buildPrompt(prompt, { tokenizer, config, imageTokenCounts: counts });
    const runner = await HookedRunner.create({ weights });
    try {
      const input = { inputIds: ids, ...(images.length > 0 ? { images } : {}) };
      const N = config.numLayers;
      const depth = images.length > 0 ? config.vision!.depth : 0;
      // a model read from disk layer by layer takes seconds to minutes: show where it is on a terminal (stderr, so --json stays clean)
      const tty = process.stderr.isTTY === true;
      const bar = new SingleBar({ format: 'run [{bar}] {value}/{total} {stage}', hideCursor: true }, Presets.shades_classic);
      const total = depth + N + opts.maxNewTokens - 1;
      if (tty) bar.start(total, 0, { stage: depth > 0 ? 'vision blocks' : 'prefill layers' });
      let tStart = 0;
      let tPrefill: number | undefined;
      let tDecode: number | undefined;
      let done = 0;
      const tick = (stage: string) => tty && bar.update(++done, { stage });
      const hooks: Hook[] = [
        { point: 'resid_post', section: 'vision', fn: () => void tick('vision blocks') },
        {
          point: 'resid_pre', section: 'llm', layers: 0, phase: 'both',
          fn: (_v, ctx) => {
            if (ctx.phase === 'prefill') tPrefill ??= performance.now();
            else tDecode ??= performance.now();
          },
        },
        { point: 'resid_post', section: 'llm', phase: 'prefill', fn: () => void tick('prefill layers') },
        { point: 'resid_post', section: 'llm', layers: N - 1, phase: 'decode', fn: () => void tick('decoded tokens') },
      ];
      const tLoaded = performance.now();
      tStart = tLoaded;
      const generated = await runner.generate([input], { maxNewTokens: opts.maxNewTokens, keepFirstLogits: true, hooks });
      const tEnd = performance.now();
      if (tty) bar.stop();
      const prefillStart = tPrefill ?? tStart;
      const timings: RunTimings = {
        load: round((tLoaded - t0) / 1000),
        vision: round((prefillStart - tStart) / 1000),
        prefill: round(((tDecode ?? tEnd) - prefillStart) / 1000),
        decode: round((tDecode === undefined ? 0 : tEnd - tDecode) / 1000),
      };
      const tokens = generated.tokens[0]!;
      const out = {
        promptTokenIds: ids,
        generatedTokenIds: tokens,
        text: tokenizer.decode(tokens, { skipSpecialTokens: true }),
        finish: generated.finish[0],
        lastLogits: Array.from(generated.firstLogits!),
        timings,
        /** the process's peak resident memory so far (bytes): what the weight-memory budget bounds */
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
      };
      if (opts.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        process.stdout.write(`${out.text}\n(${ids.length} prompt tokens, ${tokens.length} generated, stopped at ${out.finish}; ` +
          `load ${timings.load} s, vision ${timings.vision} s, prefill ${timings.prefill} s, decode ${timings.decode} s)\n`);
      }
    } finally {
      await runner.release();
    }
  } finally {
    await weights.close();
  }
}
