/**
 * How a functional analysis is cut into work units (docs/engine.md, "Work
 * units"): whole batches of examples x fixed-size groups of layers. The cut
 * depends only on the canonical parameters and the selected examples, never
 * on how many workers there are, so a run spread over workers combines the
 * same unit results a single process would.
 */
import type { UnitInput, UnitPlan, WorkUnit } from '../units/work-unit.js';

/**
 * Examples a unit covers, rounded up to whole batches: a batch pads its
 * prompts to a common length, so regrouping examples could change their numbers.
 */
export const EXAMPLES_PER_UNIT = 16;

/** Requested layers a unit covers (a 28-layer model is cut into 4 groups). */
export const LAYERS_PER_UNIT = 7;

/** The sizes of a cut. A run always uses DEFAULT_CUT; tests also cut finer, or not at all (WHOLE_RUN). */
export interface UnitCut {
  /** rounded up to whole batches */
  examplesPerUnit: number;
  layersPerUnit: number;
}

export const DEFAULT_CUT: Readonly<UnitCut> = Object.freeze({ examplesPerUnit: EXAMPLES_PER_UNIT, layersPerUnit: LAYERS_PER_UNIT });

/** One unit covering every example and layer: the run as a single pass. */
export const WHOLE_RUN: Readonly<UnitCut> = Object.freeze({ examplesPerUnit: Infinity, layersPerUnit: Infinity });

/** Examples [start, end) of the analysis's example list (0-based). */
export interface ExampleRange {
  start: number;
  end: number;
}

/** One cell of the cut: an example range x a layer group (null for analyses without layers). */
export interface UnitCell {
  range: ExampleRange;
  /** position of the range among the ranges */
  rangeIndex: number;
  /** 0-based layers, or null when the analysis has no per-layer work */
  layers: number[] | null;
  /** position of the layer group among the groups (0 when layers is null) */
  groupIndex: number;
}

/** Consecutive ranges of whole batches, each at least `examplesPerUnit` examples (the last may be shorter). */
export function exampleRanges(count: number, batchSize: number, cut: UnitCut = DEFAULT_CUT): ExampleRange[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`'batchSize' must be a positive integer, got ${batchSize}`);
  const size = Math.max(1, Math.ceil(cut.examplesPerUnit / batchSize)) * batchSize;
  const out: ExampleRange[] = [];
  for (let start = 0; start < count; start += size) out.push({ start, end: Math.min(count, start + size) });
  return out;
}

/** The sorted layers in consecutive groups of `layersPerUnit`. */
export function layerGroups(layers: readonly number[], cut: UnitCut = DEFAULT_CUT): number[][] {
  const sorted = [...layers].sort((a, b) => a - b);
  const size = Math.max(1, cut.layersPerUnit);
  const out: number[][] = [];
  for (let i = 0; i < sorted.length; i += size) out.push(sorted.slice(i, i + size));
  return out;
}

/** Every cell, example range major: index = rangeIndex * groups + groupIndex. */
export function cutCells(exampleCount: number, batchSize: number, layers: readonly number[] | null, cut: UnitCut = DEFAULT_CUT): UnitCell[] {
  const groups = layers === null ? [null] : layerGroups(layers, cut);
  return exampleRanges(exampleCount, batchSize, cut).flatMap((range, rangeIndex) => groups.map((g, groupIndex) => ({ range, rangeIndex, layers: g, groupIndex })));
}

/** 'layers 1-7 x examples 1-16' (1-based, layers on the unified index). */
export function cellLabel(cell: UnitCell): string {
  const examples = `examples ${cell.range.start + 1}-${cell.range.end}`;
  if (cell.layers === null) return examples;
  const unified = cell.layers.map((l) => l + 1);
  const contiguous = unified.every((l, i) => i === 0 || l === unified[i - 1]! + 1);
  const layers = unified.length === 1 ? `layer ${unified[0]}` : contiguous ? `layers ${unified[0]}-${unified[unified.length - 1]}` : `layers ${unified.join(',')}`;
  return `${layers} x ${examples}`;
}

/** Where a unit function lives. */
export interface UnitFunction {
  /** href of the engine module */
  module: string;
  exportName: string;
}

/** The input of one unit: the cell's examples and, when the cell has a layer group, those layers. */
export function cellInput<I extends { examples: readonly unknown[]; options: { layers: number[] } }>(input: I, cell: UnitCell): I {
  const examples = input.examples.slice(cell.range.start, cell.range.end);
  return cell.layers ? { ...input, examples, options: { ...input.options, layers: cell.layers } } : { ...input, examples };
}

/** The plan of a cut: one unit per cell, with the same file inputs on each. */
export function planCells<R, I>(
  fn: UnitFunction,
  cells: readonly UnitCell[],
  inputs: readonly UnitInput[],
  unitInput: (cell: UnitCell) => I,
  combine: (results: unknown[]) => R,
): UnitPlan<R> {
  const units: WorkUnit[] = cells.map((cell, index) => ({
    index,
    module: fn.module,
    exportName: fn.exportName,
    input: unitInput(cell),
    inputs: inputs.map((i) => ({ ...i })),
    label: cellLabel(cell),
  }));
  return { units, combine };
}

/** Result of unit (range r, group g) in a cut with `groups` layer groups. */
export function resultAt<T>(results: readonly unknown[], groups: number, rangeIndex: number, groupIndex: number): T {
  const r = results[rangeIndex * groups + groupIndex];
  if (r === undefined) throw new Error(`the result of unit ${rangeIndex * groups + groupIndex} is missing`);
  return r as T;
}

/** A plan cuts the layers it is given; an empty list (the engine's 'every layer') must be filled in first. */
export function requireLayers(options: { layers: readonly number[] }): void {
  if (options.layers.length === 0) throw new RangeError('a work-unit plan needs the layers named (an empty list is resolved to every layer by the service)');
}

/** A unit result's per-example list, checked to cover the unit's `count` examples (a stale or foreign result fails here, not as a wrong row). */
export function perExample<T>(list: readonly T[] | undefined, count: number, what: string, unitIndex: number): readonly T[] {
  if (!Array.isArray(list) || list.length !== count) {
    throw new Error(`the result of unit ${unitIndex} holds ${Array.isArray(list) ? list.length : 'no'} ${what} for its ${count} examples`);
  }
  return list;
}
