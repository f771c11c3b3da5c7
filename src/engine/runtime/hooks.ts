/**
 * Hook points between the pieces of each decoder layer and vision block
 * (docs/model.md, "Hook points"). A hook reads the value at its point and may
 * return a replacement; every intervention (ablation, patching, K/V swaps,
 * attention read-outs) is expressed as hooks.
 */
import type { MropePositions } from '../model/families/qwen-vl/positions.js';
import type { F32Tensor } from './tensor.js';

/** The named points of a layer, in execution order. */
export const HOOK_POINTS = ['resid_pre', 'k', 'v', 'attn_pattern', 'attn_out', 'mlp_out', 'resid_post'] as const;
/** A named point of a layer. */
export type HookPoint = (typeof HOOK_POINTS)[number];
/** Which stack a layer belongs to. */
export type Section = 'llm' | 'vision';
/** The prompt pass (`prefill`, also the vision tower) or one generation step (`decode`). */
export type Phase = 'prefill' | 'decode';

/** Positions of one batch, in padded coordinates (index along the sequence axis). */
export interface BatchLayout {
  batchSize: number;
  /** padded prompt length T */
  length: number;
  /** left padding of each example */
  padding: readonly number[];
  /** real prompt tokens of each example */
  lengths: readonly number[];
  /** padded positions of each example's visual tokens (empty without an image) */
  visualPositions: readonly (readonly number[])[];
  /** M-RoPE models: each example's temporal/height/width positions over its real tokens */
  mrope?: readonly MropePositions[];
}

/** Where a hook is being called. */
export interface HookContext {
  section: Section;
  /** 0-based decoder layer or vision block */
  layer: number;
  point: HookPoint;
  phase: Phase;
  /** 0 for the prompt pass, n for the n-th generated token's step (1-based) */
  step: number;
  /**
   * Sequence index of the first query row of this call (0 on the prompt pass,
   * T + step - 1 on a decode step); keys and values of the cache before it are not passed again.
   */
  offset: number;
  /** the batch's layout (for vision: one row per image, no padding) */
  layout: BatchLayout;
}

/**
 * Reads the value at a point. Returning a Float32Array (same length) or a
 * tensor replaces it; returning nothing keeps it. The value must not be
 * modified in place. Shapes: resid_pre / attn_out / mlp_out / resid_post
 * [B, T, H]; k, v [B, nkv, T, d] (k after RoPE; T = rows of this call);
 * attn_pattern [B, nh, T, S] with S = keys so far.
 */
export type HookFn = (value: F32Tensor, ctx: HookContext) => Float32Array | F32Tensor | void;

/** A hook and where it applies. */
export interface Hook {
  point: HookPoint;
  /** ['llm'] */
  section?: Section;
  /** one layer, a list, or a predicate [every layer] */
  layers?: number | readonly number[] | ((layer: number) => boolean);
  /** ['both'] */
  phase?: Phase | 'both';
  fn: HookFn;
}

/** A hook on `attn_pattern` tried to replace it. */
export class ReadOnlyHookError extends TypeError {
  override readonly name = 'ReadOnlyHookError';
}

function layerMatches(layers: Hook['layers'], layer: number): boolean {
  if (layers === undefined) return true;
  if (typeof layers === 'number') return layers === layer;
  if (typeof layers === 'function') return layers(layer);
  return layers.includes(layer);
}

/** The hooks of one run, looked up by (section, layer, point, phase). */
export class HookSet {
  readonly #hooks: readonly Hook[];

  constructor(hooks: readonly Hook[] = []) {
    for (const h of hooks) {
      if (!(HOOK_POINTS as readonly string[]).includes(h.point)) throw new RangeError(`hook 'point' must be one of ${HOOK_POINTS.join(', ')}, got ${JSON.stringify(h.point)}`);
    }
    this.#hooks = hooks;
  }

  /** True when no hook applies anywhere. */
  get empty(): boolean {
    return this.#hooks.length === 0;
  }

  #matching(section: Section, layer: number, point: HookPoint, phase: Phase): Hook[] {
    return this.#hooks.filter(
      (h) => h.point === point && (h.section ?? 'llm') === section && (h.phase ?? 'both') !== (phase === 'prefill' ? 'decode' : 'prefill') && layerMatches(h.layers, layer),
    );
  }

  /** Whether any hook applies at this point (lets the runner skip fetching attention patterns). */
  has(section: Section, layer: number, point: HookPoint, phase: Phase): boolean {
    return this.#matching(section, layer, point, phase).length > 0;
  }

  /** Calls the matching hooks in order, each seeing the previous one's result. */
  apply(value: F32Tensor, ctx: HookContext): F32Tensor {
    let current = value;
    for (const h of this.#matching(ctx.section, ctx.layer, ctx.point, ctx.phase)) {
      const r = h.fn(current, ctx);
      if (r === undefined) continue;
      if (ctx.point === 'attn_pattern') {
        throw new ReadOnlyHookError(`hook at ${ctx.section} layer ${ctx.layer} returned a replacement for 'attn_pattern', which is read-only`);
      }
      const data = r instanceof Float32Array ? r : r.data;
      if (data.length !== current.data.length) {
        throw new RangeError(`hook at ${ctx.section} layer ${ctx.layer} '${ctx.point}' returned ${data.length} values; expected ${current.data.length} (shape [${current.dims.join(', ')}])`);
      }
      current = { data, dims: current.dims };
    }
    return current;
  }
}
