/**
 * The unified layer index of METHOD.md: every tensor name maps to a section,
 * an integer layer index (vision negative, projector 0, LLM positive) and a
 * component. Regions split the LLM layers into early / middle / late.
 */

export type Section = 'vision' | 'projector' | 'llm' | 'other';
export type Component = 'attention' | 'mlp' | 'other';
export type Region = 'early' | 'middle' | 'late';

export interface TensorPlacement {
  section: Section;
  /** unified index; null for tensors outside any block (embeddings, head, final norm, patch embed) */
  layerIndex: number | null;
  component: Component;
}

const VISION_BLOCK = /^(?:model\.)?visual\.(?:blocks|layers)\.(\d+)\./;
const PROJECTOR = /^(?:model\.)?(?:visual\.merger|mm_projector|visual\.projector|multi_modal_projector)(?:\.|$)/;
const LLM_LAYER = /^(?:model\.(?:language_model\.)?|language_model\.model\.|model\.language_model\.)?layers\.(\d+)\./;

/** Counts the vision blocks and LLM layers present in a list of tensor names. */
export function countBlocks(names: Iterable<string>): { visionBlocks: number; llmLayers: number } {
  let maxVision = -1;
  let maxLlm = -1;
  for (const name of names) {
    const v = VISION_BLOCK.exec(name);
    if (v) maxVision = Math.max(maxVision, Number(v[1]));
    const l = v ? null : LLM_LAYER.exec(name);
    if (l) maxLlm = Math.max(maxLlm, Number(l[1]));
  }
  return { visionBlocks: maxVision + 1, llmLayers: maxLlm + 1 };
}

/** Which part of a block a tensor belongs to, by the substrings METHOD.md lists. */
export function componentOf(name: string): Component {
  if (/(?:q_proj|k_proj|v_proj|o_proj|qkv|attn)/.test(name)) return 'attention';
  if (/(?:gate_proj|up_proj|down_proj|mlp)/.test(name)) return 'mlp';
  return 'other';
}

/**
 * Places one tensor on the unified index.
 * @param visionBlocks V, the number of vision blocks: vision block i gets index i - V.
 */
export function placeTensor(name: string, visionBlocks: number): TensorPlacement {
  const component = componentOf(name);
  const v = VISION_BLOCK.exec(name);
  if (v) return { section: 'vision', layerIndex: Number(v[1]) - visionBlocks, component };
  if (PROJECTOR.test(name)) return { section: 'projector', layerIndex: 0, component };
  const l = LLM_LAYER.exec(name);
  if (l) return { section: 'llm', layerIndex: Number(l[1]) + 1, component };
  return { section: 'other', layerIndex: null, component };
}

/**
 * Region cuts: `[a, b]` puts 0-based LLM layers j < a in early, j < b in
 * middle, the rest in late. The default follows METHOD.md: floor(N/3), floor(2N/3).
 */
export function defaultLayerCuts(numLayers: number): [number, number] {
  return [Math.floor(numLayers / 3), Math.floor((2 * numLayers) / 3)];
}

/** Throws RangeError naming the problem when cuts are not 0 <= a <= b <= N. */
export function validateLayerCuts(cuts: readonly number[], numLayers: number): [number, number] {
  if (cuts.length !== 2) throw new RangeError(`'layerCuts' must have exactly 2 entries, got ${cuts.length}`);
  const [a, b] = cuts as [number, number];
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < a || b > numLayers) {
    throw new RangeError(`'layerCuts' [${a}, ${b}] must be integers with 0 <= a <= b <= ${numLayers} (the number of LLM layers)`);
  }
  return [a, b];
}

/** Region of an LLM layer from its unified index (1-based); null outside the LLM. */
export function regionOf(placement: Pick<TensorPlacement, 'section' | 'layerIndex'>, cuts: readonly [number, number]): Region | null {
  if (placement.section !== 'llm' || placement.layerIndex === null) return null;
  const j = placement.layerIndex - 1;
  if (j < cuts[0]) return 'early';
  if (j < cuts[1]) return 'middle';
  return 'late';
}

/** Norms and 1-D tensors are skipped by the characterization (METHOD.md section 2). */
export function isCharacterized(name: string, shape: readonly number[]): boolean {
  if (shape.length < 2) return false;
  return !/(?:norm|ln_q|layernorm)/i.test(name);
}
