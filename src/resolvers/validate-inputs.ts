/**
 * Boundary checks of the input objects and the arguments several fields
 * share. Bounds here are what any model or probe set could accept; the
 * services still check against the actual model (e.g. layers <= L).
 */
import type { AnalysisOptions } from '../schema/analysis.input.js';
import type { CharacterizationOptions } from '../schema/characterization.input.js';
import type { VariantRecipeInput } from '../schema/variant.input.js';
import { BadUserInputError } from '../schema/errors.js';
import { validateLayerCuts } from '../engine/layout.js';
import { MAX_TOP_K } from '../services/characterization-service.js';
import { MAX_NEW_TOKENS_LIMIT } from '../services/analysis-options.js';
import { boolArg, idArg, intArg, jsonArg, listArg, textArg, TEXT, type IntRange } from './validate-args.js';

/** Page sizes of every list field with first/after. */
export const PAGE: IntRange = { min: 1, max: 1000 };

/** Bounds of AnalysisOptions, the same the analysis and variant services apply. */
export const ANALYSIS_BOUNDS = {
  layer: { min: 1, max: 9999 },
  maxExamples: { min: 1, max: 1_000_000 },
  maxNewTokens: { min: 1, max: MAX_NEW_TOKENS_LIMIT },
  batchSize: { min: 1, max: 256 },
  bootstrapSamples: { min: 1, max: 100_000 },
  seed: { min: 0, max: 2 ** 31 - 1 },
} as const satisfies Record<string, IntRange>;

const MAX_LIST_ITEMS = 1024;
/** frozen-layer checkpoints of one necessity table; each one is scored in every setting */
const MAX_FROZEN = 64;
const MAX_RECIPE_BYTES = 64 * 1024;

/** Region cuts [a, b] over 0-based LLM layers; whether b fits the model is the service's check. */
export function checkLayerCuts(argument: string, cuts: readonly number[] | null | undefined): void {
  if (cuts === null || cuts === undefined) return;
  if (cuts.length !== 2) throw new BadUserInputError(`'${argument}' must have exactly 2 entries [a, b], got ${cuts.length}`, argument, { length: 2 });
  listArg(argument, cuts, 2, (name, v) => intArg(name, v, { min: 0, max: ANALYSIS_BOUNDS.layer.max }));
  if (cuts[0]! > cuts[1]!) throw new BadUserInputError(`'${argument}' must satisfy a <= b, got [${cuts[0]}, ${cuts[1]}]`, argument, { order: 'a <= b' });
}

/** Cuts that fit a model of `numLayers` LLM layers, refused under the caller's argument name rather than a derived recipe's. */
export function layerCutsWithin(argument: string, cuts: readonly number[], numLayers: number): [number, number] {
  try {
    return validateLayerCuts(cuts, numLayers);
  } catch (err) {
    throw new BadUserInputError((err as Error).message.replace(`'layerCuts'`, `'${argument}'`), argument, { min: 0, max: numLayers, length: 2 });
  }
}

export function checkAnalysisOptions(argument: string, options: AnalysisOptions | null | undefined): void {
  if (!options) return;
  const b = ANALYSIS_BOUNDS;
  listArg(`${argument}.layers`, options.layers, MAX_LIST_ITEMS, (name, v) => intArg(name, v, b.layer));
  listArg(`${argument}.tasks`, options.tasks, MAX_LIST_ITEMS, (name, v) => textArg(name, v, { maxLength: TEXT.name }));
  textArg(`${argument}.split`, options.split, { maxLength: TEXT.name });
  intArg(`${argument}.maxExamples`, options.maxExamples, b.maxExamples);
  intArg(`${argument}.maxNewTokens`, options.maxNewTokens, b.maxNewTokens);
  intArg(`${argument}.batchSize`, options.batchSize, b.batchSize);
  intArg(`${argument}.bootstrapSamples`, options.bootstrapSamples, b.bootstrapSamples);
  intArg(`${argument}.seed`, options.seed, b.seed);
  if (options.chat !== null && options.chat !== undefined) boolArg(`${argument}.chat`, options.chat, false);
}

export function checkCharacterizationOptions(argument: string, options: CharacterizationOptions | null | undefined): void {
  if (!options) return;
  // an empty filter keeps every tensor, as an absent one does
  textArg(`${argument}.weightFilter`, options.weightFilter, { maxLength: 200, allowEmpty: true });
  intArg(`${argument}.topK`, options.topK, { min: 1, max: MAX_TOP_K });
  checkLayerCuts(`${argument}.layerCuts`, options.layerCuts);
}

export function checkRecipeInput(argument: string, input: VariantRecipeInput): void {
  idArg(`${argument}.model`, input.model);
  idArg(`${argument}.sft`, input.sft);
  idArg(`${argument}.rl`, input.rl);
  checkLayerCuts(`${argument}.layerCuts`, input.layerCuts);
  jsonArg(`${argument}.recipe`, input.recipe, { maxBytes: MAX_RECIPE_BYTES, maxDepth: 16 });
  // the same budget as a JSON recipe: a config is a few hundred bytes, and YAML aliases are capped when it is read
  textArg(`${argument}.recipeYaml`, input.recipeYaml, { maxLength: MAX_RECIPE_BYTES });
}

export function checkFrozen(argument: string, ids: readonly string[]): void {
  listArg(argument, ids, MAX_FROZEN, idArg);
}
