/**
 * The vision tower, projector and visual-span replacement of docs/model.md
 * (`frankenscope_vl`) in jax-js. Pixel handling (patch extraction, span
 * placement) is constant data built in plain JS; only the weights carry
 * gradients.
 */
import { lax, numpy as np, nn } from '@jax-js/jax';
import { resolveVision, type ResolvedVision, type TrainConfig } from './config.js';
import type { Arr, Params } from './model.js';

/** The images of a batch, prepared for {@link visualEmbeddings}. */
export interface ImageInputs {
  /** float32 [nI·N, C·tp·p·p]: each image's patch vectors in merge-block order */
  patches: Arr;
  /** float32 [B·T, nI·n_v]: 1 where a position takes a visual token */
  place: Arr;
  /** float32 [B·T, 1]: 0 at the visual span, 1 elsewhere */
  keep: Arr;
}

/** (row, column) of each patch, listed merge-block by merge-block. */
function patchGrid(v: ResolvedVision): [number, number][] {
  const m = v.spatialMergeSize;
  const out: [number, number][] = [];
  for (let bh = 0; bh < v.gridRows / m; bh++) {
    for (let bw = 0; bw < v.gridCols / m; bw++) {
      for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out.push([bh * m + i, bw * m + j]);
    }
  }
  return out;
}

/** Patch vectors [N][C·tp·p·p] of one normalised image [C, h, w], the still frame repeated tp times. */
function patchRows(pixels: Float32Array, v: ResolvedVision): number[][] {
  const [h, w] = v.imageSize;
  const { patchSize: p, temporalPatchSize: tp, inChannels: C } = v;
  if (pixels.length !== C * h * w) throw new RangeError(`'pixels' has ${pixels.length} values, expected C·h·w = ${C * h * w}`);
  return patchGrid(v).map(([r, c]) => {
    const row: number[] = [];
    for (let ch = 0; ch < C; ch++) {
      for (let f = 0; f < tp; f++) {
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) row.push(pixels[(ch * h + r * p + y) * w + c * p + x]!);
      }
    }
    return row;
  });
}

/**
 * Builds the image inputs of a batch: row b's image (if any) fills the n_v
 * positions holding `imageTokenId`, in order. Returns undefined when no row
 * has an image. A row without an image must not hold `imageTokenId`.
 */
export function prepareImages(
  ids: readonly (readonly number[])[],
  pixels: readonly (Float32Array | null | undefined)[] | undefined,
  config: TrainConfig,
): ImageInputs | undefined {
  if (pixels === undefined || pixels.every((x) => x == null)) return undefined;
  if (config.vision === undefined) throw new RangeError("'pixels' given but the config has no 'vision'");
  if (pixels.length !== ids.length) throw new RangeError(`'pixels' has ${pixels.length} entries, expected one per row (${ids.length})`);
  const v = resolveVision(config.vision);
  const T = ids[0]!.length;
  const nv = v.numVisualTokens;
  const patches: number[][] = [];
  const slots: [number, number][] = [];
  ids.forEach((row, b) => {
    const span = row.flatMap((id, t) => (id === config.imageTokenId ? [t] : []));
    const img = pixels[b];
    if (img == null) {
      if (span.length > 0) throw new RangeError(`row ${b} holds image_token_id ${config.imageTokenId} but has no image`);
      return;
    }
    if (span.length !== nv) throw new RangeError(`row ${b} holds ${span.length} image tokens, expected n_v = ${nv}`);
    const first = patches.length / v.numPatches;
    patches.push(...patchRows(img, v));
    span.forEach((t, k) => slots.push([b * T + t, first * nv + k]));
  });
  const cols = (patches.length / v.numPatches) * nv;
  const place = Array.from({ length: ids.length * T }, () => new Array<number>(cols).fill(0));
  const keep = Array.from({ length: ids.length * T }, () => [1]);
  for (const [pos, col] of slots) {
    place[pos]![col] = 1;
    keep[pos]![0] = 0;
  }
  return { patches: np.array(patches), place: np.array(place), keep: np.array(keep) };
}

function linear(x: Arr, w: Arr, b?: Arr): Arr {
  const y = np.matmul(x, np.transpose(w));
  return b === undefined ? y : np.add(y, b);
}

function rmsNorm(x: Arr, w: Arr, eps: number): Arr {
  const inv = np.reciprocal(np.sqrt(np.add(np.mean(np.square(x.ref), -1, { keepdims: true }), eps)));
  return np.multiply(np.multiply(x, inv), w);
}

/** cos/sin [N, dv] of the 2-D rotary angles a = [θ, θ], θ = [r·inv, c·inv]. */
function visionRope(v: ResolvedVision): { cos: Arr; sin: Arr } {
  const q = v.headDim / 4;
  const inv = Array.from({ length: q }, (_, j) => 10000 ** (-j / q));
  const angles = patchGrid(v).map(([r, c]) => {
    const theta = [...inv.map((f) => r * f), ...inv.map((f) => c * f)];
    return [...theta, ...theta];
  });
  return { cos: np.array(angles.map((a) => a.map(Math.cos))), sin: np.array(angles.map((a) => a.map(Math.sin))) };
}

/**
 * Visual tokens [nI·n_v, H] of the prepared patches. Consumes `patches` and
 * every `visual.*` entry of `p`.
 */
export function visualTokens(p: Params, patches: Arr, config: TrainConfig): Arr {
  const v = resolveVision(config.vision!);
  const { hidden: Hv, numHeads: nh, headDim: d, numPatches: N, rmsNormEps: eps } = v;
  const nI = patches.shape[0]! / N;
  const { cos, sin } = visionRope(v);
  const w0 = p['visual.patch_embed.proj.weight']!;
  let x = np.matmul(patches, np.transpose(np.reshape(w0, [Hv, w0.shape.slice(1).reduce((a, b) => a * b, 1)])));
  const heads = (t: Arr): Arr => np.transpose(np.reshape(t, [nI, N, nh, d]), [0, 2, 1, 3]);
  const rope = (t: Arr): Arr => {
    const t1 = t.ref.slice([], [], [], [0, d / 2]);
    const t2 = t.ref.slice([], [], [], [d / 2, d]);
    return np.add(np.multiply(t, cos.ref), np.multiply(np.concatenate([np.negative(t2), t1], -1), sin.ref));
  };
  for (let i = 0; i < v.depth; i++) {
    const w = (s: string): Arr => p[`visual.blocks.${i}.${s}`]!;
    const qkv = linear(rmsNorm(x.ref, w('norm1.weight'), eps), w('attn.qkv.weight'), w('attn.qkv.bias'));
    const q = rope(heads(qkv.ref.slice([], [0, Hv])));
    const k = rope(heads(qkv.ref.slice([], [Hv, 2 * Hv])));
    const val = heads(qkv.slice([], [2 * Hv, 3 * Hv]));
    const att = nn.softmax(np.multiply(np.matmul(q, np.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(d)), -1);
    const o = np.reshape(np.transpose(np.matmul(att, val), [0, 2, 1, 3]), [nI * N, Hv]);
    x = np.add(x, linear(o, w('attn.proj.weight'), w('attn.proj.bias')));
    const z = rmsNorm(x.ref, w('norm2.weight'), eps);
    const gate = linear(z.ref, w('mlp.gate_proj.weight'), w('mlp.gate_proj.bias'));
    const act = np.multiply(np.multiply(gate.ref, nn.sigmoid(gate)), linear(z, w('mlp.up_proj.weight'), w('mlp.up_proj.bias')));
    x = np.add(x, linear(act, w('mlp.down_proj.weight'), w('mlp.down_proj.bias')));
  }
  cos.dispose();
  sin.dispose();
  const m2 = v.spatialMergeSize ** 2;
  const y = np.reshape(rmsNorm(x, p['visual.merger.ln_q.weight']!, eps), [(nI * N) / m2, m2 * Hv]);
  const u = linear(y, p['visual.merger.mlp.0.weight']!, p['visual.merger.mlp.0.bias']!);
  // exact GELU: 0.5 x (1 + erf(x/√2))
  const gelu = np.multiply(np.multiply(u.ref, 0.5), np.add(lax.erf(np.multiply(u, Math.SQRT1_2)), 1));
  return linear(gelu, p['visual.merger.mlp.2.weight']!, p['visual.merger.mlp.2.bias']!);
}

/** Disposes the `visual.*` entries of `p` (a forward pass without images does not use them). */
export function disposeVisual(p: Params): void {
  for (const [k, a] of Object.entries(p)) if (k.startsWith('visual.')) a.dispose();
}
