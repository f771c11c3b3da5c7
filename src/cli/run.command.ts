/** `frankenscope run`: a smoke test of the engine on any checkpoint directory. */
import { resolve } from 'node:path';
import { loadImage } from '../engine/model/image.js';
import { buildPrompt } from '../engine/model/prompt.js';
import { TextTokenizer } from '../engine/model/tokenizer.js';
import { HookedRunner } from '../engine/runtime/runner.js';
import { CheckpointWeights } from '../engine/runtime/weights.js';

export interface RunCliOptions {
  model: string;
  prompt: string;
  image?: string;
  maxNewTokens: number;
  json?: boolean;
}

export async function runCommand(opts: RunCliOptions): Promise<void> {
  const weights = await CheckpointWeights.open(resolve(opts.model));
  try {
    const tokenizer = await TextTokenizer.load(resolve(opts.model));
    const pixels = opts.image ? await loadImage(resolve(opts.image), weights.config.vision) : undefined;
    const { ids } = buildPrompt(opts.prompt, { tokenizer, config: weights.config, hasImage: pixels !== undefined });
    const runner = await HookedRunner.create({ weights });
    try {
      const input = { inputIds: ids, pixels };
      const logits = await runner.forward([input]);
      const generated = await runner.generate([input], { maxNewTokens: opts.maxNewTokens });
      const tokens = generated.tokens[0]!;
      const out = {
        promptTokenIds: ids,
        generatedTokenIds: tokens,
        text: tokenizer.decode(tokens, { skipSpecialTokens: true }),
        finish: generated.finish[0],
        lastLogits: Array.from(logits.logits),
      };
      if (opts.json) process.stdout.write(JSON.stringify(out) + '\n');
      else process.stdout.write(`${out.text}\n(${ids.length} prompt tokens, ${tokens.length} generated, stopped at ${out.finish})\n`);
    } finally {
      await runner.release();
    }
  } finally {
    await weights.close();
  }
}
