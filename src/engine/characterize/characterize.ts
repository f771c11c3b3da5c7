/**
 * `characterize`: the weight-update characterization of METHOD.md section 2
 * for a Base / IN (SFT) / RL trio, one tensor at a time so that peak memory
 * stays near a handful of tensors whatever the checkpoint's size.
 */
import { countBlocks, defaultLayerCuts, isCharacterized, placeTensor, regionOf, validateLayerCuts } from '../layout.js';
import { aggregateGroups, aggregateLayers, type GroupAggregate, type LayerAggregate, type TensorUpdate } from './aggregate.js';
import { readDeltas, type RawTensorSource } from './deltas.js';
import { subspaceOverlap, updateStats } from './metrics.js';

export { readDeltas, type TensorDeltas } from './deltas.js';

/** What characterize needs from a checkpoint (the safetensors-backed Checkpoint satisfies it). */
export interface TensorSource extends RawTensorSource {
  readonly dir: string;
}

/** What characterize needs from the spectral solver. */
export interface SpectrumProvider {
  spectrum(a: Float32Array, rows: number, cols: number, options?: { leftVectors?: number }): Promise<{
    values: Float64Array;
    left?: Float64Array;
    leftCount: number;
  }>;
}

export interface CharacterizeOptions {
  /** keep only tensors whose name contains this substring (the reference's --weight-filter) */
  weightFilter?: string | null;
  /** leading singular values kept and used for log volume and subspace overlap (default 50) */
  topK?: number;
  /** region cuts over 0-based LLM layers (default floor(N/3), floor(2N/3)) */
  layerCuts?: readonly number[] | null;
}

export interface CharacterizeProgress {
  done: number;
  total: number;
  tensor: string;
}

export interface CharacterizationResult {
  tensors: TensorUpdate[];
  layers: LayerAggregate[];
  groups: GroupAggregate[];
  /** the options actually applied, defaults filled in */
  applied: { weightFilter: string | null; topK: number; layerCuts: [number, number] };
}

/** Raised when the three checkpoints do not hold the same tensors with the same shapes. */
export class TrioMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrioMismatchError';
  }
}

/** Thrown from characterize when its signal is aborted between tensors. */
export class CancelledError extends Error {
  constructor() {
    super('characterization cancelled');
    this.name = 'CancelledError';
  }
}

/** The tensors a characterization will visit, in order, after checking the trio matches. */
export function plannedTensors(base: TensorSource, sft: TensorSource, rl: TensorSource, weightFilter?: string | null): string[] {
  const names: string[] = [];
  for (const [name, info] of sft.tensors) {
    if (!isCharacterized(name, info.shape)) continue;
    if (weightFilter && !name.includes(weightFilter)) continue;
    for (const [label, other] of [['base', base], ['rl', rl]] as const) {
      const o = other.tensors.get(name);
      if (!o) throw new TrioMismatchError(`tensor '${name}' is in the SFT checkpoint but missing from the ${label} checkpoint (${other.dir})`);
      if (o.shape.join('x') !== info.shape.join('x')) {
        throw new TrioMismatchError(`tensor '${name}' has shape [${o.shape}] in the ${label} checkpoint but [${info.shape}] in the SFT checkpoint`);
      }
    }
    names.push(name);
  }
  return names.sort();
}


/** Where the tensors sit: the model's vision block count and the region cuts over its LLM layers. */
export interface TensorPlacementContext {
  visionBlocks: number;
  cuts: [number, number];
}

/** The vision block count and region cuts of a trio (cuts validated against its LLM layers, or the default). */
export function placementContext(sft: TensorSource, layerCuts?: readonly number[] | null): TensorPlacementContext {
  const { visionBlocks, llmLayers } = countBlocks(sft.tensors.keys());
  return { visionBlocks, cuts: layerCuts ? validateLayerCuts(layerCuts, llmLayers) : defaultLayerCuts(llmLayers) };
}

/** One tensor's update metrics. dSFT = SFT - Base, dRL = RL - SFT, both in float32; rank >= 3 is flattened to (shape[0], rest). */
export async function characterizeTensor(
  trio: { base: TensorSource; sft: TensorSource; rl: TensorSource },
  solver: SpectrumProvider,
  name: string,
  topK: number,
  where: TensorPlacementContext,
): Promise<TensorUpdate> {
  const shape = trio.sft.tensors.get(name)!.shape;
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);

  const { dSft, dRl, inNorm, froSft, froRl, cross } = await readDeltas(trio, name);

  const spectrumSft = await solver.spectrum(dSft, rows, cols, { leftVectors: Math.min(topK, rows, cols) });
  const spectrumRl = await solver.spectrum(dRl, rows, cols, { leftVectors: Math.min(topK, rows, cols) });
  const placement = placeTensor(name, where.visionBlocks);
  return {
    name,
    layerIndex: placement.layerIndex,
    section: placement.section,
    component: placement.component,
    region: regionOf(placement, where.cuts),
    shape: [...shape],
    sft: updateStats(spectrumSft.values, froSft, inNorm, topK),
    rl: updateStats(spectrumRl.values, froRl, inNorm, topK),
    cosine: froSft === 0 || froRl === 0 ? null : cross / (froSft * froRl),
    subspaceOverlap:
      spectrumSft.left && spectrumRl.left
        ? subspaceOverlap(spectrumSft.left, spectrumSft.leftCount, spectrumRl.left, spectrumRl.leftCount, rows)
        : null,
  };
}

/** The result from every planned tensor's update, in plan order. */
export function summarizeCharacterization(tensors: TensorUpdate[], applied: CharacterizationResult['applied']): CharacterizationResult {
  return { tensors, layers: aggregateLayers(tensors), groups: aggregateGroups(tensors), applied };
}

/**
 * Runs the characterization in one pass (the work-unit plan in units.ts
 * computes the same tensors in ranges).
 */
export async function characterize(
  trio: { base: TensorSource; sft: TensorSource; rl: TensorSource },
  solver: SpectrumProvider,
  options: CharacterizeOptions = {},
  onProgress?: (p: CharacterizeProgress) => void,
  signal?: AbortSignal,
): Promise<CharacterizationResult> {
  const topK = checkTopK(options.topK);
  const names = plannedTensors(trio.base, trio.sft, trio.rl, options.weightFilter);
  const where = placementContext(trio.sft, options.layerCuts);
  const tensors: TensorUpdate[] = [];
  for (const [i, name] of names.entries()) {
    if (signal?.aborted) throw new CancelledError();
    tensors.push(await characterizeTensor(trio, solver, name, topK, where));
    onProgress?.({ done: i + 1, total: names.length, tensor: name });
  }
  return summarizeCharacterization(tensors, { weightFilter: options.weightFilter ?? null, topK, layerCuts: where.cuts });
}

/** topK with its default (50), or RangeError. */
export function checkTopK(topK: number | undefined): number {
  const k = topK ?? 50;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`'topK' must be a positive integer, got ${k}`);
  return k;
}
