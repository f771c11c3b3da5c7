/**
 * Float64 reference of the Qwen2-VL / Qwen2.5-VL vision towers, written from
 * transformers' modeling_qwen2_vl.py (PatchEmbed, VisionRotaryEmbedding,
 * Qwen2VisionTransformerPretrainedModel.rot_pos_emb / forward, VisionAttention,
 * Qwen2VLVisionBlock, PatchMerger) and modeling_qwen2_5_vl.py
 * (Qwen2_5_VisionTransformerPretrainedModel.get_window_index / forward,
 * Qwen2_5_VLVisionBlock, Qwen2_5_VLMLP, Qwen2_5_VLPatchMerger).
 */
import type { QwenVlRefConfig } from './config.js';
import { activation, addInPlace, applyRotary, attendHead, layerNorm, linear, mapInPlace, rmsNorm, weight, type RefWeights } from './ops.js';

/** [t, h, w] of one image in patches (as the image processor reports it). */
export type GridThw = readonly [number, number, number];

/** One image: processor rows [t*h*w, C*T*P*P] and its grid. */
export interface RefImage {
  pixelValues: Float64Array | Float32Array;
  gridThw: GridThw;
}

/**
 * (h, w) patch coordinates of every patch row of one image, in the
 * processor's order: frames, then merge blocks row-major, then the
 * merge x merge patches inside a block row-major (rot_pos_emb).
 */
export function visionPositionIds(grid: GridThw, merge: number): [number, number][] {
  const [t, h, w] = grid;
  const out: [number, number][] = [];
  for (let f = 0; f < t; f++) {
    for (let bh = 0; bh < h / merge; bh++) {
      for (let bw = 0; bw < w / merge; bw++) {
        for (let ih = 0; ih < merge; ih++) for (let iw = 0; iw < merge; iw++) out.push([bh * merge + ih, bw * merge + iw]);
      }
    }
  }
  return out;
}

/**
 * cos/sin rows [n, headDim] of the vision 2-D rotary: VisionRotaryEmbedding(headDim/2)
 * has inv[j] = 10000^(-2j/(headDim/2)), j < headDim/4; a patch's angle vector is
 * [h*inv, w*inv] (length headDim/2), repeated twice (cat(emb, emb)).
 */
export function visionRotary(pos: readonly (readonly [number, number])[], headDim: number): { cos: Float64Array; sin: Float64Array } {
  const dim = headDim / 2;
  const nf = dim / 2;
  const inv = Array.from({ length: nf }, (_, j) => 1 / 10000 ** ((2 * j) / dim));
  const cos = new Float64Array(pos.length * headDim);
  const sin = new Float64Array(pos.length * headDim);
  pos.forEach(([ph, pw], r) => {
    for (let rep = 0; rep < 2; rep++) {
      for (let j = 0; j < nf; j++) {
        const a = ph * inv[j]!;
        const b = pw * inv[j]!;
        const base = r * headDim + rep * dim;
        cos[base + j] = Math.cos(a);
        sin[base + j] = Math.sin(a);
        cos[base + nf + j] = Math.cos(b);
        sin[base + nf + j] = Math.sin(b);
      }
    }
  });
  return { cos, sin };
}

/**
 * Qwen2.5-VL get_window_index over several images: `windowIndex[k]` is the
 * merged-token index (over all images) placed at window-order slot k;
 * `cuWindowSeqlens` are patch-row boundaries of the windows (starting at 0,
 * with the empty windows' repeats removed as torch.unique_consecutive does).
 * Windows are `window_size / merge / patch` merged tokens on a side, tiled
 * from the top-left of each frame; the right and bottom ones may be smaller.
 */
export function windowIndex(grids: readonly GridThw[], windowSize: number, merge: number, patch: number): { windowIndex: number[]; cuWindowSeqlens: number[] } {
  const ws = Math.floor(Math.floor(windowSize / merge) / patch);
  if (ws < 1) throw new Error(`window_size ${windowSize} is smaller than one merged token`);
  const unit = merge * merge;
  const index: number[] = [];
  const cu: number[] = [0];
  let base = 0;
  for (const [t, h, w] of grids) {
    const lh = h / merge;
    const lw = w / merge;
    // HF pads by ws - l % ws (a whole empty window when l divides): empty windows only add repeated boundaries.
    const nwh = Math.ceil(lh / ws);
    const nww = Math.ceil(lw / ws);
    for (let f = 0; f < t; f++) {
      for (let wh = 0; wh < nwh; wh++) {
        for (let ww = 0; ww < nww; ww++) {
          let count = 0;
          for (let y = wh * ws; y < Math.min((wh + 1) * ws, lh); y++) {
            for (let x = ww * ws; x < Math.min((ww + 1) * ws, lw); x++) {
              index.push(base + f * lh * lw + y * lw + x);
              count++;
            }
          }
          if (count > 0) cu.push(cu[cu.length - 1]! + count * unit);
        }
      }
    }
    base += t * lh * lw;
  }
  return { windowIndex: index, cuWindowSeqlens: cu };
}

/** cu_seqlens of whole-image attention: one segment per frame of each image (repeat_interleave(h*w, t)). */
export function frameSeqlens(grids: readonly GridThw[]): number[] {
  const cu = [0];
  for (const [t, h, w] of grids) for (let f = 0; f < t; f++) cu.push(cu[cu.length - 1]! + h * w);
  return cu;
}

/** Options of {@link referenceVision}. */
export interface VisionOptions {
  /** override the config's window_size (Qwen2.5-VL) */
  windowSize?: number;
  /** override the config's fullatt_block_indexes (Qwen2.5-VL) */
  fullattBlockIndexes?: readonly number[];
  /** weight name prefix of the tower ['visual.'] */
  prefix?: string;
}

/**
 * The vision tower over a list of images processed together, as HF does
 * (`self.visual(pixel_values, grid_thw)`): returns merged tokens
 * [sum(t*h*w/merge^2), outHidden] in image order.
 */
export function referenceVision(cfg: QwenVlRefConfig, w: RefWeights, images: readonly RefImage[], options: VisionOptions = {}): Float64Array {
  const v = cfg.vision;
  const p = options.prefix ?? 'visual.';
  const grids = images.map((im) => im.gridThw);
  const rowSize = v.inChannels * v.temporalPatchSize * v.patchSize * v.patchSize;
  const n = grids.reduce((s, [t, h, ww]) => s + t * h * ww, 0);
  for (const [t, h, ww] of grids) {
    if (h % v.mergeSize !== 0 || ww % v.mergeSize !== 0 || t < 1) throw new Error(`grid [${t},${h},${ww}] does not split into ${v.mergeSize}x${v.mergeSize} blocks`);
  }
  const pix = new Float64Array(n * rowSize);
  let off = 0;
  for (const im of images) {
    const [t, h, ww] = im.gridThw;
    if (im.pixelValues.length !== t * h * ww * rowSize) throw new Error(`pixel_values has ${im.pixelValues.length} values, grid needs ${t * h * ww * rowSize}`);
    pix.set(im.pixelValues, off);
    off += im.pixelValues.length;
  }
  // PatchEmbed: Conv3d with stride = kernel and no bias is a dot product with the flattened [C, T, P, P] kernel.
  let x = linear(pix, n, weight(w, `${p}patch_embed.proj.weight`));
  const E = v.width;
  const hd = E / v.numHeads;
  let pos = grids.flatMap((g) => visionPositionIds(g, v.mergeSize));
  const unit = v.mergeSize * v.mergeSize;
  const is25 = cfg.family === 'qwen2_5_vl';
  let order: number[] | null = null;
  let cuWindow: number[] = [];
  if (is25) {
    const wi = windowIndex(grids, options.windowSize ?? v.windowSize, v.mergeSize, v.patchSize);
    order = wi.windowIndex;
    cuWindow = wi.cuWindowSeqlens;
    const perm = new Float64Array(x.length);
    const permPos: [number, number][] = [];
    order.forEach((src, dst) => {
      perm.set(x.subarray(src * unit * E, (src + 1) * unit * E), dst * unit * E);
      for (let u = 0; u < unit; u++) permPos.push(pos[src * unit + u]!);
    });
    x = perm;
    pos = permPos;
  }
  const { cos, sin } = visionRotary(pos, hd);
  const cuFull = frameSeqlens(grids);
  const full = new Set(is25 ? options.fullattBlockIndexes ?? v.fullattBlockIndexes : Array.from({ length: v.depth }, (_, i) => i));
  const act = activation(v.act);
  for (let b = 0; b < v.depth; b++) {
    const bp = `${p}blocks.${b}.`;
    const norm = (name: string, y: Float64Array): Float64Array =>
      is25 ? rmsNorm(y, n, weight(w, `${bp}${name}.weight`), 1e-6) : layerNorm(y, n, weight(w, `${bp}${name}.weight`), weight(w, `${bp}${name}.bias`), 1e-6);
    // attention, segment by segment (no attention across segments, no padding inside)
    const qkv = linear(norm('norm1', x), n, weight(w, `${bp}attn.qkv.weight`), weight(w, `${bp}attn.qkv.bias`));
    for (let r = 0; r < n; r++) {
      for (let hh = 0; hh < v.numHeads; hh++) {
        applyRotary(qkv, r * 3 * E + hh * hd, hd, cos, sin, r * hd);
        applyRotary(qkv, r * 3 * E + E + hh * hd, hd, cos, sin, r * hd);
      }
    }
    const cu = full.has(b) ? cuFull : cuWindow;
    const att = new Float64Array(n * E);
    for (let s = 0; s + 1 < cu.length; s++) {
      const a = cu[s]!;
      const len = cu[s + 1]! - a;
      const sub = qkv.subarray(a * 3 * E, (a + len) * 3 * E);
      const outSub = att.subarray(a * E, (a + len) * E);
      for (let hh = 0; hh < v.numHeads; hh++) {
        attendHead(sub, 3 * E, hh * hd, len, sub.subarray(E), sub.subarray(2 * E), 3 * E, hh * hd, len, hd, () => true, outSub, E, hh * hd);
      }
    }
    addInPlace(x, linear(att, n, weight(w, `${bp}attn.proj.weight`), weight(w, `${bp}attn.proj.bias`)));
    const h2 = norm('norm2', x);
    let m: Float64Array;
    if (is25) {
      const g = mapInPlace(linear(h2, n, weight(w, `${bp}mlp.gate_proj.weight`), weight(w, `${bp}mlp.gate_proj.bias`)), act);
      const u = linear(h2, n, weight(w, `${bp}mlp.up_proj.weight`), weight(w, `${bp}mlp.up_proj.bias`));
      for (let i = 0; i < g.length; i++) g[i] = g[i]! * u[i]!;
      m = linear(g, n, weight(w, `${bp}mlp.down_proj.weight`), weight(w, `${bp}mlp.down_proj.bias`));
    } else {
      const f1 = mapInPlace(linear(h2, n, weight(w, `${bp}mlp.fc1.weight`), weight(w, `${bp}mlp.fc1.bias`)), act);
      m = linear(f1, n, weight(w, `${bp}mlp.fc2.weight`), weight(w, `${bp}mlp.fc2.bias`));
    }
    addInPlace(x, m);
  }
  // merger: ln_q per patch row, then each run of merge^2 consecutive rows is one merged token
  const lnq = is25
    ? rmsNorm(x, n, weight(w, `${p}merger.ln_q.weight`), 1e-6)
    : layerNorm(x, n, weight(w, `${p}merger.ln_q.weight`), weight(w, `${p}merger.ln_q.bias`), 1e-6);
  const nm = n / unit;
  const h1 = mapInPlace(linear(lnq, nm, weight(w, `${p}merger.mlp.0.weight`), weight(w, `${p}merger.mlp.0.bias`)), activation('gelu'));
  const merged = linear(h1, nm, weight(w, `${p}merger.mlp.2.weight`), weight(w, `${p}merger.mlp.2.bias`));
  if (!order) return merged;
  // undo the window order: argsort(window_index)
  const D = merged.length / nm;
  const out = new Float64Array(merged.length);
  order.forEach((src, dst) => out.set(merged.subarray(dst * D, (dst + 1) * D), src * D));
  return out;
}
