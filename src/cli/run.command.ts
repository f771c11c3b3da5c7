/** `frankenscope run`: a smoke test of the engine on any checkpoint directory. */
import { resolve } from 'node:path';
import { loadChatTemplate, renderChatPrompt } from '../engine/model/chat.js';
import { buildPrompt } from '../engine/model/prompt.js';
import { loadVisionImage } from '../engine/model/vision-images.js';
import { visualTokenCount } from '../engine/model/vision-input.js';
import { TextTokenizer } from '../engine/model/tokenizer.js';
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

export async function runCommand(opts: RunCliOptions): Promise<void> {
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
