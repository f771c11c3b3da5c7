/**
 * The reference's region-splice variants of an SFT ("IN") and an RL model,
 * over decoder-layer thirds cut at [a, b] (default floor(N/3), floor(2N/3)).
 */
import { RecipeError } from './errors.js';
import type { MergeRecipe, ModelId, SpliceOp } from './recipe.js';

/** Stable preset names: the model of early / middle / late thirds, `__` between models. */
export const SPLICE_PRESETS = [
  'in_early__rl_middle_late', // IN early 1/3 + RL late 2/3
  'rl_early__in_middle_late', // RL early 1/3 + IN late 2/3
  'in_early_middle__rl_late', // IN early 2/3 + RL late 1/3
  'rl_early_middle__in_late', // RL early 2/3 + IN late 1/3
  'in_early__rl_middle__in_late', // IN early + RL middle + IN late
  'rl_early__in_middle__rl_late', // RL early + IN middle + RL late
] as const;
export type SplicePreset = (typeof SPLICE_PRESETS)[number];

/** Which model each third comes from. */
const THIRDS: Record<SplicePreset, readonly ['in' | 'rl', 'in' | 'rl', 'in' | 'rl']> = {
  in_early__rl_middle_late: ['in', 'rl', 'rl'],
  rl_early__in_middle_late: ['rl', 'in', 'in'],
  in_early_middle__rl_late: ['in', 'in', 'rl'],
  rl_early_middle__in_late: ['rl', 'rl', 'in'],
  in_early__rl_middle__in_late: ['in', 'rl', 'in'],
  rl_early__in_middle__rl_late: ['rl', 'in', 'rl'],
};

/** Default cuts: floor(N/3), floor(2N/3). */
export function defaultLayerCuts(numLayers: number): [number, number] {
  return [Math.floor(numLayers / 3), Math.floor((2 * numLayers) / 3)];
}

/** Options of {@link presetRecipe}. */
export interface PresetOptions {
  /** the SFT ("IN") model id */
  sftId: ModelId;
  /** the RL model id */
  rlId: ModelId;
  /** decoder layers N */
  numLayers: number;
  /** [a, b]: early = layers < a, middle = a <= l < b, late = l >= b [floor(N/3), floor(2N/3)] */
  layerCuts?: [number, number];
  /** which model gives the non-layer tensors (vision, projector, embeddings, head) ['sft'] */
  base?: 'sft' | 'rl';
}

/**
 * The recipe of a preset: the base model gives every tensor outside the
 * decoder layers and its own thirds; each third of the other model is one
 * whole-layer splice (empty thirds are left out).
 * @throws RecipeError for an unknown preset or cuts outside 0 <= a <= b <= N
 */
export function presetRecipe(preset: SplicePreset, options: PresetOptions): MergeRecipe {
  const thirds = THIRDS[preset];
  if (!thirds) throw new RecipeError('preset', `'preset' must be one of ${SPLICE_PRESETS.join(', ')}, got ${JSON.stringify(preset)}`);
  const n = options.numLayers;
  if (!Number.isSafeInteger(n) || n < 1) throw new RecipeError('numLayers', `'numLayers' must be an integer >= 1, got ${n}`);
  if (options.sftId === options.rlId) throw new RecipeError('rlId', `'rlId' must differ from 'sftId' (${JSON.stringify(options.sftId)})`);
  const [a, b] = options.layerCuts ?? defaultLayerCuts(n);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || a > b || b > n) {
    throw new RecipeError('layerCuts', `'layerCuts' must be integers with 0 <= a <= b <= ${n}, got ${JSON.stringify(options.layerCuts)}`);
  }
  const baseRole = options.base ?? 'sft';
  const id = (role: 'in' | 'rl'): ModelId => (role === 'in' ? options.sftId : options.rlId);
  const base = id(baseRole === 'sft' ? 'in' : 'rl');
  const donor = id(baseRole === 'sft' ? 'rl' : 'in');
  const bounds: [number, number][] = [[0, a], [a, b], [b, n]];
  const operations: SpliceOp[] = [];
  thirds.forEach((role, i) => {
    const [from, to] = bounds[i]!;
    if (id(role) === base || from >= to) return;
    const last = operations[operations.length - 1];
    // adjacent thirds from the donor form one range
    if (last && last.layers.to === from) last.layers = { from: last.layers.from, to };
    else operations.push({ op: 'splice', model: donor, layers: { from, to } });
  });
  return { base, donors: [donor], operations, label: preset };
}
