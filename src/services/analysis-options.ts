/** Request options of the functional analyses and variant scoring, with defaults and bounds. */
import type { AnalysisOptions } from '../engine/analyses/types.js';
import type { AnalysisRequestOptions } from './analysis-service.js';
import { InvalidArgument } from './errors.js';

/**
 * Default greedy generation budget. Models trained on worked solutions answer
 * only after a `<think>` preamble (the demo's are up to ~105 tokens); a
 * smaller default would score truncated preambles as wrong answers.
 * Generation stops at end-of-text, so models that answer briefly pay nothing.
 */
export const DEFAULT_MAX_NEW_TOKENS = 128;

/**
 * The default budget of a probe set's format when the request names none.
 * Worked solutions to GSM8K and MATH need far more than the demo's
 * preambles: the reference's MATH evaluation generates up to 1024 tokens,
 * and MATH-500 solutions with their algebra routinely pass 500 tokens, so a
 * smaller budget would cut off the final \boxed{} and score it wrong.
 * GSM8K chains are arithmetic of a few steps (the dataset's own solutions
 * stay under ~250 tokens, a chatty chain of thought about twice that), so
 * 512 leaves room at half the worst-case cost. Generation stops at
 * end-of-text, so a model that answers briefly pays nothing for either.
 */
export const FORMAT_MAX_NEW_TOKENS: Readonly<Record<string, number>> = { gsm8k: 512, math500: 1024 };

/** The largest generation budget a request may ask for (the KV cache grows with it). */
export const MAX_NEW_TOKENS_LIMIT = 4096;

/** The budget used when a request gives none: by the probe set's format, else DEFAULT_MAX_NEW_TOKENS. */
export function defaultMaxNewTokens(format: string): number {
  return FORMAT_MAX_NEW_TOKENS[format] ?? DEFAULT_MAX_NEW_TOKENS;
}

/** An integer option within bounds, or InvalidArgument naming it. */
export function intIn(value: number | null | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgument(`options.${name}`, `'${name}' must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/**
 * Fills defaults and checks bounds; layers arrive 1-based (unified index) and
 * leave 0-based. The generation budget's default depends on the probe set's
 * format (defaultMaxNewTokens).
 */
export function resolveAnalysisOptions(r: AnalysisRequestOptions, numLayers: number, probeSetFormat = 'jsonl', chatTemplate = false): AnalysisOptions {
  if (r.chat === true && !chatTemplate) {
    throw new InvalidArgument('options.chat', `'chat' is true but the model has no chat template (chat_template.jinja, chat_template.json or tokenizer_config.json's chat_template)`);
  }
  const layers = r.layers?.length ? [...new Set(r.layers)].sort((a, b) => a - b) : Array.from({ length: numLayers }, (_, i) => i + 1);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 1 || l > numLayers) throw new InvalidArgument('options.layers', `'layers' holds ${l}; LLM layers are 1..${numLayers} on the unified index`);
  }
  return {
    layers: layers.map((l) => l - 1),
    scoring: r.scoring === 'TEACHER_FORCED' ? 'teacher_forced' : 'generate',
    // the effective value, so the cache key of a run that named none says what it used
    maxNewTokens: intIn(r.maxNewTokens, defaultMaxNewTokens(probeSetFormat), 1, MAX_NEW_TOKENS_LIMIT, 'maxNewTokens'),
    batchSize: intIn(r.batchSize, 8, 1, 256, 'batchSize'),
    bootstrapSamples: intIn(r.bootstrapSamples, 1000, 1, 100_000, 'bootstrapSamples'),
    seed: intIn(r.seed, 0, 0, 2 ** 31 - 1, 'seed'),
    // chat formatting by default wherever the model ships a template (hub instruct models), as the reference scripts do
    chat: r.chat ?? chatTemplate,
  };
}
