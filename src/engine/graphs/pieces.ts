/**
 * Standalone ONNX graphs, one per piece kind and shape, with every weight a
 * graph INPUT: one session serves every layer of every checkpoint, so a
 * Frankenstein model is only a per-layer choice of the tensors fed in.
 * Batch and sequence sizes are symbolic.
 *
 * Feeds and fetches of each graph are listed in the TSDoc of its builder;
 * weight inputs are named by role (`ln`, `wq`, `bq`, ... see blocks.ts).
 */
import { type AttentionShape, attentionCore, attentionInput, blockNorm, gelu, linear, lmHead, mlp, type MlpShape, type NormKind, type WeightBinder } from './blocks.js';
import { GraphBuilder } from './graph-builder.js';

export type { AttentionShape, MlpShape, NormKind } from './blocks.js';

/** Names of the inputs and outputs of the piece graphs. */
export const PIECE_IO = {
  attentionInput: { inputs: ['x', 'cos', 'sin'], outputs: ['q', 'k', 'v'] },
  attentionCore: { inputs: ['q', 'k', 'v', 'mask'], outputs: ['attn_pattern', 'attn_out'] },
  mlp: { inputs: ['h'], outputs: ['mlp_out'] },
  head: { inputs: ['x'], outputs: ['logits'] },
  patchEmbed: { inputs: ['patches'], outputs: ['embeddings'] },
  merger: { inputs: ['x'], outputs: ['tokens'] },
} as const;

function inputBinder(g: GraphBuilder): WeightBinder {
  return (role, dims) => g.input(role, dims);
}

/**
 * Attention input piece. Feeds: x [B, T, H], cos and sin [B, 1, T, d]
 * (or broadcastable), weights ln, wq, wk, wv (+ bq, bk, bv).
 * Fetches: q [B, nh, T, d], k and v [B, nkv, T, d].
 */
export function attentionInputGraph(s: AttentionShape): Uint8Array {
  const g = new GraphBuilder('attention_input');
  const x = g.input('x', ['B', 'T', s.hidden]);
  const cos = g.input('cos', ['Bc', 1, 'T', s.headDim]);
  const sin = g.input('sin', ['Bc', 1, 'T', s.headDim]);
  attentionInput(g, x, cos, sin, inputBinder(g), s, { q: 'q', k: 'k', v: 'v' });
  g.output('q', ['B', s.heads, 'T', s.headDim]);
  g.output('k', ['B', s.kvHeads, 'T', s.headDim]);
  g.output('v', ['B', s.kvHeads, 'T', s.headDim]);
  return g.encode();
}

/**
 * Attention core piece. Feeds: q [B, nh, Tq, d], k and v [B, nkv, S, d],
 * mask [B, 1, Tq, S] (0 = attend, -inf = masked), weights wo (+ bo).
 * Fetches: attn_pattern [B, nh, Tq, S], attn_out [B, Tq, H].
 */
export function attentionCoreGraph(s: AttentionShape): Uint8Array {
  const g = new GraphBuilder('attention_core');
  const q = g.input('q', ['B', s.heads, 'Tq', s.headDim]);
  const k = g.input('k', ['B', s.kvHeads, 'S', s.headDim]);
  const v = g.input('v', ['B', s.kvHeads, 'S', s.headDim]);
  const mask = g.input('mask', ['Bm', 1, 'Tq', 'S']);
  attentionCore(g, q, k, v, mask, inputBinder(g), s, { pattern: 'attn_pattern', out: 'attn_out' });
  g.output('attn_pattern', ['B', s.heads, 'Tq', 'S']);
  g.output('attn_out', ['B', 'Tq', s.hidden]);
  return g.encode();
}

/** MLP piece. Feeds: h [B, T, H], weights ln, wg, wu, wd (+ bg, bu, bd). Fetches: mlp_out [B, T, H]. */
export function mlpGraph(s: MlpShape): Uint8Array {
  const g = new GraphBuilder('mlp');
  const h = g.input('h', ['B', 'T', s.hidden]);
  mlp(g, h, inputBinder(g), s, 'mlp_out');
  g.output('mlp_out', ['B', 'T', s.hidden]);
  return g.encode();
}

/** Final norm + lm_head. Feeds: x [N, H], weights norm, w. Fetches: logits [N, V]. */
export function headGraph(s: { hidden: number; vocab: number; eps: number }): Uint8Array {
  const g = new GraphBuilder('lm_head');
  const x = g.input('x', ['N', s.hidden]);
  lmHead(g, x, inputBinder(g), s, 'logits');
  g.output('logits', ['N', s.vocab]);
  return g.encode();
}

/** Vision patch embedding. Feeds: patches [N, C·tp·p·p], w [Hv, C, tp, p, p]. Fetches: embeddings [N, Hv]. */
export function patchEmbedGraph(s: { visionHidden: number; channels: number; temporalPatch: number; patch: number }): Uint8Array {
  const g = new GraphBuilder('patch_embed');
  const K = s.channels * s.temporalPatch * s.patch * s.patch;
  const patches = g.input('patches', ['N', K]);
  const w = g.input('w', [s.visionHidden, s.channels, s.temporalPatch, s.patch, s.patch]);
  linear(g, patches, g.op('Reshape', [w, g.ints([s.visionHidden, K])]), undefined, 'embeddings');
  g.output('embeddings', ['N', s.visionHidden]);
  return g.encode();
}

/**
 * Projector (`visual.merger`). Feeds: x [N, Hv] (runs of m² consecutive patches
 * are merged), weights ln (+ lnb for a LayerNorm), w0, b0, w2, b2. Fetches: tokens [N/m², H].
 */
export function mergerGraph(s: { visionHidden: number; mergeSize: number; hidden: number; eps: number; norm?: NormKind }): Uint8Array {
  const g = new GraphBuilder('merger');
  const M = s.mergeSize * s.mergeSize * s.visionHidden;
  const w = inputBinder(g);
  const x = g.input('x', ['N', s.visionHidden]);
  const merged = g.op('Reshape', [blockNorm(g, x, w, s.visionHidden, s.eps, s.norm), g.ints([-1, M])]);
  const hidden = gelu(g, linear(g, merged, w('w0', [M, M]), w('b0', [M])));
  linear(g, hidden, w('w2', [s.hidden, M]), w('b2', [s.hidden]), 'tokens');
  g.output('tokens', ['Nv', s.hidden]);
  return g.encode();
}
