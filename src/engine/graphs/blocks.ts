/**
 * The pieces of a transformer block as ONNX subgraphs, written once and used
 * both for the per-piece graphs of hooked execution and for the whole-model
 * graph of the benchmark. Weights come through a {@link WeightBinder}: a graph
 * input (one session for every layer and checkpoint) or an initializer.
 * Every piece follows docs/model.md; all arithmetic is float32.
 */
import { type GraphBuilder, MS_DOMAIN } from './graph-builder.js';

/** Returns the value name of the weight with this role and shape. */
export type WeightBinder = (role: string, dims: readonly number[]) => string;

/** Shape of the attention of one block (language layer or vision block). */
export interface AttentionShape {
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  /** q/k/v projections carry biases */
  qkvBias: boolean;
  /** the output projection carries a bias (vision) */
  outBias: boolean;
  /** the pre-attention norm: RMSNorm (weight `ln`) [default] or LayerNorm (weights `ln`, `lnb`; Qwen2-VL's vision blocks) */
  norm?: NormKind;
}

/** RMSNorm (weight only) or LayerNorm (weight and bias). */
export type NormKind = 'rms' | 'layer';

/** Shape of one MLP. */
export interface MlpShape {
  hidden: number;
  intermediate: number;
  eps: number;
  /** gate/up/down carry biases (vision) */
  bias: boolean;
  /** SwiGLU with gate/up/down (weights wg, wu, wd) [default], or fc1 -> QuickGELU -> fc2 with biases (w1, b1, w2, b2; Qwen2-VL's vision blocks) */
  kind?: 'swiglu' | 'quickgelu';
  /** the pre-MLP norm, as in {@link AttentionShape.norm} */
  norm?: NormKind;
}

/** y = x Wᵀ (+ b) for x of any rank, W [out, in]. */
export function linear(g: GraphBuilder, x: string, w: string, b?: string, out?: string): string {
  if (b === undefined) return g.op('FusedMatMul', [x, w], { transB: 1 }, out, MS_DOMAIN);
  return g.op('Add', [g.op('FusedMatMul', [x, w], { transB: 1 }, undefined, MS_DOMAIN), b], {}, out);
}

/** RMSNorm over the last axis: w ⊙ x / sqrt(mean(x²) + eps). */
export function rmsNorm(g: GraphBuilder, x: string, w: string, eps: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(eps)])]);
  return g.op('Mul', [g.op('Div', [x, rms]), w]);
}

/** LayerNorm over the last axis: w ⊙ (x − mean) / sqrt(var + eps) + b, population variance. */
export function layerNorm(g: GraphBuilder, x: string, w: string, b: string, eps: number): string {
  const centred = g.op('Sub', [x, g.op('ReduceMean', [x], { axes: [-1], keepdims: 1 })]);
  const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [-1], keepdims: 1 });
  const normed = g.op('Div', [centred, g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)])])]);
  return g.op('Add', [g.op('Mul', [normed, w]), b]);
}

/** The norm of a block piece, its weights bound as `ln` (and `lnb` for LayerNorm). */
export function blockNorm(g: GraphBuilder, x: string, w: WeightBinder, hidden: number, eps: number, kind: NormKind = 'rms'): string {
  return kind === 'layer' ? layerNorm(g, x, w('ln', [hidden]), w('lnb', [hidden]), eps) : rmsNorm(g, x, w('ln', [hidden]), eps);
}

/** x ⊙ cos + rotate_half(x) ⊙ sin along the last axis (length n). */
export function rope(g: GraphBuilder, x: string, cos: string, sin: string, n: number, out?: string): string {
  const h = n / 2;
  const first = g.op('Slice', [x, g.ints([0]), g.ints([h]), g.ints([-1])]);
  const second = g.op('Slice', [x, g.ints([h]), g.ints([n]), g.ints([-1])]);
  const rotated = g.op('Concat', [g.op('Neg', [second]), first], { axis: -1 });
  return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])], {}, out);
}

/** [B, T, heads·d] -> [B, heads, T, d] */
function splitHeads(g: GraphBuilder, x: string, heads: number, d: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.ints([0, 0, heads, d])])], { perm: [0, 2, 1, 3] });
}

/**
 * Attention input: norm, q/k/v projections, RoPE on q and k.
 * x [B, T, H], cos/sin broadcastable to [B, 1, T, d] -> q [B, nh, T, d], k and v [B, nkv, T, d].
 */
export function attentionInput(
  g: GraphBuilder,
  x: string,
  cos: string,
  sin: string,
  w: WeightBinder,
  s: AttentionShape,
  names: { q?: string; k?: string; v?: string } = {},
): { q: string; k: string; v: string } {
  const { hidden: H, heads, kvHeads, headDim: d } = s;
  const u = blockNorm(g, x, w, H, s.eps, s.norm);
  const proj = (name: string, rows: number) =>
    linear(g, u, w(`w${name}`, [rows, H]), s.qkvBias ? w(`b${name}`, [rows]) : undefined);
  const q = rope(g, splitHeads(g, proj('q', heads * d), heads, d), cos, sin, d, names.q);
  const k = rope(g, splitHeads(g, proj('k', kvHeads * d), kvHeads, d), cos, sin, d, names.k);
  const vHeads = splitHeads(g, proj('v', kvHeads * d), kvHeads, d);
  const v = names.v ? g.op('Identity', [vHeads], {}, names.v) : vHeads;
  return { q, k, v };
}

/**
 * Attention core: softmax(q kᵀ/√d + mask) v, heads concatenated, output projection.
 * q [B, nh, Tq, d], k/v [B, nkv, S, d], mask [B, 1, Tq, S] (0 or -inf)
 * -> pattern [B, nh, Tq, S], out [B, Tq, H]. Query head h reads key/value head ⌊h/(nh/nkv)⌋.
 */
export function attentionCore(
  g: GraphBuilder,
  q: string,
  k: string,
  v: string,
  mask: string,
  w: WeightBinder,
  s: AttentionShape,
  names: { pattern?: string; out?: string } = {},
): { pattern: string; out: string } {
  const { hidden: H, heads, kvHeads, headDim: d } = s;
  const group = heads / kvHeads;
  const scale = { f: 1 / Math.sqrt(d) };
  // Grouped heads: q as [B, nkv, group, Tq, d] against k/v as [B, nkv, 1, S, d] (broadcast, no copy of k/v).
  const q5 = g.op('Reshape', [q, g.ints([0, kvHeads, group, -1, d])]);
  const k5 = g.op('Unsqueeze', [k, g.ints([2])]);
  const v5 = g.op('Unsqueeze', [v, g.ints([2])]);
  const mask5 = g.op('Unsqueeze', [mask, g.ints([2])]);
  const scores = g.op('Add', [g.op('FusedMatMul', [q5, k5], { transB: 1, alpha: scale }, undefined, MS_DOMAIN), mask5]);
  const probs = g.op('Softmax', [scores], { axis: -1 });
  const shape5 = g.op('Shape', [probs]);
  const patternShape = g.op('Concat', [
    g.op('Slice', [shape5, g.ints([0]), g.ints([1])]),
    g.ints([heads]),
    g.op('Slice', [shape5, g.ints([3]), g.ints([5])]),
  ], { axis: 0 });
  const pattern = g.op('Reshape', [probs, patternShape], {}, names.pattern);
  const context = g.op('Reshape', [g.op('MatMul', [probs, v5]), g.ints([0, heads, -1, d])]);
  const merged = g.op('Reshape', [g.op('Transpose', [context], { perm: [0, 2, 1, 3] }), g.ints([0, 0, heads * d])]);
  const out = linear(g, merged, w('wo', [H, heads * d]), s.outBias ? w('bo', [H]) : undefined, names.out);
  return { pattern, out };
}

/**
 * MLP on the normed stream u = norm(h): SwiGLU (SiLU(u W_gᵀ) ⊙ (u W_uᵀ)) W_dᵀ,
 * or QuickGELU(u W_1ᵀ + b_1) W_2ᵀ + b_2 with QuickGELU(a) = a · sigmoid(1.702 a).
 */
export function mlp(g: GraphBuilder, h: string, w: WeightBinder, s: MlpShape, out?: string): string {
  const { hidden: H, intermediate: I } = s;
  const u = blockNorm(g, h, w, H, s.eps, s.norm);
  if (s.kind === 'quickgelu') {
    const a = linear(g, u, w('w1', [I, H]), w('b1', [I]));
    const act = g.op('Mul', [a, g.op('Sigmoid', [g.op('Mul', [a, g.scalar(1.702)])])]);
    return linear(g, act, w('w2', [H, I]), w('b2', [H]), out);
  }
  const gate = linear(g, u, w('wg', [I, H]), s.bias ? w('bg', [I]) : undefined);
  const up = linear(g, u, w('wu', [I, H]), s.bias ? w('bu', [I]) : undefined);
  const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
  return linear(g, act, w('wd', [H, I]), s.bias ? w('bd', [H]) : undefined, out);
}

/** Final norm and unembedding: x [..., H] -> logits [..., V]. */
export function lmHead(g: GraphBuilder, x: string, w: WeightBinder, s: { hidden: number; vocab: number; eps: number }, out?: string): string {
  return linear(g, rmsNorm(g, x, w('norm', [s.hidden]), s.eps), w('w', [s.vocab, s.hidden]), undefined, out);
}

/** Exact GELU: 0.5 x (1 + erf(x/√2)). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
}
