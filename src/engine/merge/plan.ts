/**
 * From a validated recipe to per-tensor decisions: defaults filled in, which
 * operation covers a tensor, and the value of a layer- or component-dependent
 * parameter for that tensor (mergekit's gradients and filters).
 */
import { type Component, DEFAULT_DOT_THRESHOLD, DEFAULT_NORMALIZE, type LayerRange, type MergeOperation, type MergeRecipe, type ModelId, type Param, type Scope } from './recipe.js';
import type { TensorSite } from './tensor-names.js';

interface ResolvedSelection {
  layers: LayerRange;
  component: Component;
  scope: Scope;
}

/** A model of a weighted operation with its defaults filled in. */
export interface ResolvedModel {
  model: ModelId;
  weight: Param;
  density: Param;
}

/** An operation with every default filled in (the form that is executed and fingerprinted). */
export type ResolvedOperation = ResolvedSelection &
  (
    | { op: 'splice'; model: ModelId }
    | { op: 'interpolate'; base: ModelId; donor: ModelId; alpha: Param }
    | { op: 'linear'; models: ResolvedModel[]; normalize: boolean }
    | { op: 'task_arithmetic' | 'ties' | 'dare_linear' | 'dare_ties'; base: ModelId; models: ResolvedModel[]; normalize: boolean; lambda: number; rescale: boolean }
    | { op: 'slerp'; base: ModelId; model: ModelId; t: Param; dotThreshold: number }
  );

/** Fills every default of one operation (`numLayers` gives the default layer range). */
export function resolveOperation(op: MergeOperation, recipe: MergeRecipe, numLayers: number): ResolvedOperation {
  const sel: ResolvedSelection = {
    layers: op.layers ? { from: op.layers.from, to: op.layers.to } : { from: 0, to: numLayers },
    component: op.component ?? 'layer',
    scope: op.scope ?? 'llm',
  };
  switch (op.op) {
    case 'splice':
      return { ...sel, op: 'splice', model: op.model };
    case 'interpolate':
      return { ...sel, op: 'interpolate', base: op.base ?? recipe.base, donor: op.donor, alpha: op.alpha };
    case 'linear':
      return { ...sel, op: 'linear', models: op.models.map((m) => ({ model: m.model, weight: m.weight, density: 1 })), normalize: op.normalize ?? DEFAULT_NORMALIZE.linear };
    case 'task_arithmetic':
    case 'ties':
    case 'dare_linear':
    case 'dare_ties':
      return {
        ...sel,
        op: op.op,
        base: op.base ?? recipe.base,
        models: op.models.map((m) => ({ model: m.model, weight: m.weight, density: 'density' in m && m.density !== undefined ? m.density : 1 })),
        normalize: op.normalize ?? DEFAULT_NORMALIZE[op.op],
        lambda: op.lambda ?? 1,
        rescale: op.op === 'dare_linear' || op.op === 'dare_ties' ? (op.rescale ?? true) : false,
      };
    case 'slerp':
      return { ...sel, op: 'slerp', base: op.base ?? recipe.base, model: op.model, t: op.t, dotThreshold: op.dotThreshold ?? DEFAULT_DOT_THRESHOLD };
  }
}

/** Whether the operation's selection contains the tensor at `site`. */
export function covers(op: ResolvedSelection, site: TensorSite): boolean {
  if (site.kind === 'outside') return op.scope === 'all';
  if (site.layer < op.layers.from || site.layer >= op.layers.to) return false;
  return op.component === 'layer' || op.component === site.component;
}

/**
 * Position of a tensor along the operation, for gradients (mergekit's rule):
 * (layer - from) / (count - 1) over the operation's layers, 1 for a single
 * layer; 0 before the decoder (vision, projector, embeddings), 1 after it.
 */
export function gradientPosition(op: ResolvedSelection, site: TensorSite): number {
  if (site.kind === 'outside') return site.position === 'pre' ? 0 : 1;
  const count = op.layers.to - op.layers.from;
  return count > 1 ? (site.layer - op.layers.from) / (count - 1) : 1;
}

/** Value of a gradient at position t in [0, 1]: linear interpolation between its evenly spaced points. */
export function evaluateGradient(g: number | readonly number[], t: number): number {
  if (typeof g === 'number') return g;
  if (g.length === 1) return g[0]!;
  const scaled = t * (g.length - 1);
  const i0 = Math.min(Math.floor(scaled), g.length - 1);
  const i1 = Math.min(g.length - 1, i0 + 1);
  const frac = scaled - i0;
  // exact at the knots: no (1 - 0) * a + 0 * b rounding surprises
  return frac === 0 ? g[i0]! : (1 - frac) * g[i0]! + frac * g[i1]!;
}

/** Value of a parameter for one tensor: the first matching conditional branch, then its gradient at t. */
export function evaluateParam(p: Param, name: string, site: TensorSite, t: number): number {
  if (typeof p === 'number') return p;
  if (p.length > 0 && typeof p[0] === 'number') return evaluateGradient(p as number[], t);
  for (const branch of p as Exclude<Param, number | number[]>) {
    if (branch.component !== undefined && !(site.kind === 'layer' && site.component === branch.component)) continue;
    if (branch.nameContains !== undefined && !name.includes(branch.nameContains)) continue;
    return evaluateGradient(branch.value, t);
  }
  // unreachable for validated recipes (the last branch is unconditional)
  throw new RangeError(`no branch of the parameter matches tensor '${name}'`);
}
