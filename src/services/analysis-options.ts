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

/** An integer option within bounds, or InvalidArgument naming it. */
export function intIn(value: number | null | undefined, fallback: number, min: number, max: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new InvalidArgument(`options.${name}`, `'${name}' must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

/** Fills defaults and checks bounds; layers arrive 1-based (unified index) and leave 0-based. */
export function resolveAnalysisOptions(r: AnalysisRequestOptions, numLayers: number): AnalysisOptions {
  const layers = r.layers?.length ? [...new Set(r.layers)].sort((a, b) => a - b) : Array.from({ length: numLayers }, (_, i) => i + 1);
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 1 || l > numLayers) throw new InvalidArgument('options.layers', `'layers' holds ${l}; LLM layers are 1..${numLayers} on the unified index`);
  }
  return {
    layers: layers.map((l) => l - 1),
    scoring: r.scoring === 'TEACHER_FORCED' ? 'teacher_forced' : 'generate',
    maxNewTokens: intIn(r.maxNewTokens, DEFAULT_MAX_NEW_TOKENS, 1, 512, 'maxNewTokens'),
    batchSize: intIn(r.batchSize, 8, 1, 256, 'batchSize'),
    bootstrapSamples: intIn(r.bootstrapSamples, 1000, 1, 100_000, 'bootstrapSamples'),
    seed: intIn(r.seed, 0, 0, 2 ** 31 - 1, 'seed'),
  };
}
