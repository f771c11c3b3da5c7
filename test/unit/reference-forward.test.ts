import { describe, expect, test } from 'vitest';
import { generateTinyModel, type TinyModel } from '../../src/engine/fixtures/index.js';
import { parseModelConfig, type ModelConfig } from '../../src/engine/model/config.js';
import { blackImage } from '../../src/engine/model/image.js';
import { referenceForward, referenceGreedy } from '../reference/forward.js';
import { referenceVision } from '../reference/vision.js';

/** Mutable float64 copies of a generated model's tensors. */
function weightsOf(model: TinyModel): Map<string, Float64Array> {
  return new Map([...model.tensors].map(([name, t]) => [name, Float64Array.from(t.data)]));
}

/** A deterministic non-trivial image [C, h, w]. */
function pattern(config: ModelConfig, phase = 0): Float32Array {
  const [h, w] = config.vision!.fixed!.imageSize;
  return Float32Array.from({ length: 3 * h * w }, (_, i) => Math.sin(0.37 * i + phase));
}

function rmsNormRow(x: ArrayLike<number>, w: ArrayLike<number>, eps: number): number[] {
  const ms = Array.from(x).reduce((s, v) => s + v * v, 0) / x.length;
  return Array.from(x, (v, i) => (w[i]! * v) / Math.sqrt(ms + eps));
}

function rows(a: Float64Array, n: number, from: number, to: number): number[] {
  return Array.from(a.subarray(from * n, to * n));
}

describe('reference forward: identities', () => {
  test.each([false, true])('with every o_proj and down_proj zero, logits = norm(embed[id]) W_headᵀ (tied: %s)', (tied) => {
    const model = generateTinyModel({ textOnly: true, tieWordEmbeddings: tied, numLayers: 3 });
    const c = model.modelConfig;
    const w = weightsOf(model);
    for (const [name, t] of w) if (/o_proj|down_proj/.test(name)) t.fill(0);
    const ids = [5, 200, 17, 5];
    const { logits } = referenceForward(w, c, { ids: [ids] });
    const embed = w.get('model.embed_tokens.weight')!;
    const head = tied ? embed : w.get('lm_head.weight')!;
    const H = c.hiddenSize;
    ids.forEach((id, t) => {
      const u = rmsNormRow(embed.subarray(id * H, (id + 1) * H), w.get('model.norm.weight')!, c.rmsNormEps);
      for (const v of [0, 1, id, c.vocabSize - 1]) {
        const want = u.reduce((s, x, i) => s + x * head[v * H + i]!, 0);
        expect(logits[0]![t * c.vocabSize + v]).toBeCloseTo(want, 10);
      }
    });
    // the same as replacing every layer by the identity
    const identity = referenceForward(weightsOf(model), c, { ids: [ids] }, { identityLayers: [0, 1, 2] });
    identity.logits[0]!.forEach((x, i) => expect(x).toBeCloseTo(logits[0]![i]!, 10));
  });

  test('a single token attends only to itself: the attention output is its v (per query head, kv head ⌊h/2⌋)', () => {
    const model = generateTinyModel({ textOnly: true, numLayers: 1 });
    const c = model.modelConfig;
    const w = weightsOf(model);
    const H = c.hiddenSize;
    const d = c.headDim;
    const o = w.get('model.layers.0.self_attn.o_proj.weight')!;
    o.fill(0);
    for (let i = 0; i < H; i++) o[i * H + i] = 1; // W_o = I, so attn_out is the concatenated heads
    w.get('model.layers.0.mlp.down_proj.weight')!.fill(0);
    const id = 42;
    const { hidden } = referenceForward(w, c, { ids: [[id]] }, { collectAttention: true });
    for (const p of hidden[0]!.attention![0]!) expect(Array.from(p)).toEqual([1]);
    const x = w.get('model.embed_tokens.weight')!.subarray(id * H, (id + 1) * H);
    const u = rmsNormRow(x, w.get('model.layers.0.input_layernorm.weight')!, c.rmsNormEps);
    const wv = w.get('model.layers.0.self_attn.v_proj.weight')!;
    const bv = w.get('model.layers.0.self_attn.v_proj.bias')!;
    const out = hidden[0]!.residPost[0]!;
    for (let h = 0; h < c.numHeads; h++) {
      const kv = Math.floor(h / (c.numHeads / c.numKvHeads));
      for (let e = 0; e < d; e++) {
        const row = kv * d + e;
        const v = u.reduce((s, ui, i) => s + ui * wv[row * H + i]!, bv[row]!);
        expect(out[h * d + e]! - x[h * d + e]!).toBeCloseTo(v, 10);
      }
    }
  });

  test('causal: logits at a position do not depend on later tokens', () => {
    const model = generateTinyModel({ textOnly: true, numLayers: 4 });
    const w = weightsOf(model);
    const V = model.modelConfig.vocabSize;
    const a = referenceForward(w, model.modelConfig, { ids: [[1, 2, 3, 4, 5, 6]] }).logits[0]!;
    const b = referenceForward(w, model.modelConfig, { ids: [[1, 2, 3, 4, 99, 100]] }).logits[0]!;
    expect(rows(b, V, 0, 4)).toEqual(rows(a, V, 0, 4));
    expect(rows(b, V, 4, 5)).not.toEqual(rows(a, V, 4, 5));
  });

  test('grouped-query attention equals full attention with each key/value head duplicated per group', () => {
    const model = generateTinyModel({ textOnly: true, numLayers: 2 });
    const c = model.modelConfig;
    const w = weightsOf(model);
    const full: ModelConfig = parseModelConfig({ ...model.config, num_key_value_heads: c.numHeads });
    const wf = new Map(w);
    const group = c.numHeads / c.numKvHeads;
    const d = c.headDim;
    const H = c.hiddenSize;
    for (let l = 0; l < c.numLayers; l++) {
      for (const p of ['k_proj', 'v_proj']) {
        const wt = w.get(`model.layers.${l}.self_attn.${p}.weight`)!;
        const b = w.get(`model.layers.${l}.self_attn.${p}.bias`)!;
        const nw = new Float64Array(c.numHeads * d * H);
        const nb = new Float64Array(c.numHeads * d);
        for (let h = 0; h < c.numHeads; h++) {
          const src = Math.floor(h / group);
          nw.set(wt.subarray(src * d * H, (src + 1) * d * H), h * d * H);
          nb.set(b.subarray(src * d, (src + 1) * d), h * d);
        }
        wf.set(`model.layers.${l}.self_attn.${p}.weight`, nw);
        wf.set(`model.layers.${l}.self_attn.${p}.bias`, nb);
      }
    }
    const ids = [[3, 1, 4, 1, 5, 9, 2, 6]];
    const a = referenceForward(w, c, { ids }).logits[0]!;
    const b = referenceForward(wf, full, { ids }).logits[0]!;
    a.forEach((x, i) => expect(b[i]).toBeCloseTo(x, 10));
  });
});

describe('reference forward: padding, images and text-only models', () => {
  const model = generateTinyModel({ numLayers: 4 });
  const c = model.modelConfig;
  const w = weightsOf(model);
  const V = c.vocabSize;
  const span = (n: number): number[] => [c.visionStartTokenId!, ...Array<number>(n).fill(c.imageTokenId!), c.visionEndTokenId!];

  test('left padding gives the unpadded logits on real tokens and NaN rows on padding', () => {
    const short = [10, ...span(4), 11, 12];
    const long = [20, 21, 22, ...span(4), 23, 24];
    const pad = long.length - short.length;
    const px = [pattern(c, 0), pattern(c, 1)];
    const batched = referenceForward(w, c, {
      ids: [[...Array<number>(pad).fill(c.eosTokenIds[0]!), ...short], long],
      pixels: px,
      attentionMask: [[...Array<number>(pad).fill(0), ...short.map(() => 1)], long.map(() => 1)],
    }).logits;
    const alone = referenceForward(w, c, { ids: [short], pixels: [px[0]] }).logits[0]!;
    rows(batched[0]!, V, pad, long.length).forEach((x, i) => expect(x).toBeCloseTo(alone[i]!, 10));
    expect(rows(batched[0]!, V, 0, pad).every(Number.isNaN)).toBe(true);
    const longAlone = referenceForward(w, c, { ids: [long], pixels: [px[1]] }).logits[0]!;
    batched[1]!.forEach((x, i) => expect(x).toBeCloseTo(longAlone[i]!, 10));
  });

  test('the image changes logits only from the visual span on', () => {
    const ids = [7, 8, ...span(4), 9];
    const a = referenceForward(w, c, { ids: [ids], pixels: [pattern(c, 0)] }).logits[0]!;
    const b = referenceForward(w, c, { ids: [ids], pixels: [blackImage(c.vision)] }).logits[0]!;
    expect(rows(a, V, 0, 3)).toEqual(rows(b, V, 0, 3));
    expect(rows(a, V, 3, 4)).not.toEqual(rows(b, V, 3, 4));
  });

  test('a text-only qwen2 model ignores images, and equals the VL model on text (same language-model weights)', () => {
    const text = generateTinyModel({ numLayers: 4, textOnly: true });
    const wt = weightsOf(text);
    const ids = [40, 41, 42, c.imageTokenId!, 43];
    const plain = referenceForward(wt, text.modelConfig, { ids: [ids] }).logits[0]!;
    const withPixels = referenceForward(wt, text.modelConfig, { ids: [ids], pixels: [pattern(c)] }).logits[0]!;
    expect(Array.from(withPixels)).toEqual(Array.from(plain));
    const textIds = [40, 41, 42, 43];
    const vl = referenceForward(w, c, { ids: [textIds] }).logits[0]!;
    expect(Array.from(referenceForward(wt, text.modelConfig, { ids: [textIds] }).logits[0]!)).toEqual(Array.from(vl));
  });

  test('a visual span that does not match the image is refused', () => {
    expect(() => referenceForward(w, c, { ids: [span(4)] })).toThrow(/no image/);
    expect(() => referenceForward(w, c, { ids: [span(3)], pixels: [pattern(c)] })).toThrow(/3 image tokens/);
  });
});

describe('reference vision tower by hand', () => {
  // 8x8 image, patch 4, merge 2: four patches, one merge block, one visual token.
  const model = generateTinyModel({ imageSize: [8, 8], visionDepth: 1, numLayers: 2 });
  const c = model.modelConfig;
  const v = c.vision!;
  const w = weightsOf(model);
  const Hv = v.hiddenSize;
  const len = 3 * v.temporalPatchSize * v.patchSize * v.patchSize;
  const sign = (k: number): number => (k % 2 === 0 ? 1 : -1);
  // With all pixels 1, patch embedding k is sign(k): each weight row holds sign(k)/len.
  const pe = w.get('visual.patch_embed.proj.weight')!;
  for (let k = 0; k < Hv; k++) pe.fill(sign(k) / len, k * len, (k + 1) * len);
  for (const s of ['attn.proj.weight', 'attn.proj.bias', 'mlp.down_proj.weight', 'mlp.down_proj.bias']) w.get(`visual.blocks.0.${s}`)!.fill(0);
  w.get('visual.merger.ln_q.weight')!.fill(1);
  const m0 = w.get('visual.merger.mlp.0.weight')!;
  m0.fill(0);
  for (let i = 0; i < 4 * Hv; i++) m0[i * 4 * Hv + i] = 1;
  w.get('visual.merger.mlp.0.bias')!.fill(0);
  const m2 = w.get('visual.merger.mlp.2.weight')!;
  m2.fill(0);
  for (let k = 0; k < c.hiddenSize; k++) m2[k * 4 * Hv + k] = 1;
  const b2 = w.get('visual.merger.mlp.2.bias')!;
  b2.forEach((_, k) => (b2[k] = 0.01 * k));
  const ones = new Float32Array(3 * 8 * 8).fill(1);
  // GELU(1) = Φ(1), GELU(−1) = −Φ(−1); ln_q divides by sqrt(1 + eps), which moves it by about 5e-7
  const expected = Array.from({ length: c.hiddenSize }, (_, k) => (sign(k % Hv) > 0 ? 0.8413447460685429 : -0.15865525393145707) + 0.01 * k);

  test('the visual token is GELU(ln_q(concatenated patches)) through the projector', () => {
    expect(v.fixed!.numVisualTokens).toBe(1);
    const { tokens } = referenceVision(w, v, c.hiddenSize, ones);
    tokens.forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 5));
  });

  test('the visual span of the input embeddings holds the projector output', () => {
    const ids = [65, c.visionStartTokenId!, c.imageTokenId!, c.visionEndTokenId!, 66];
    const { hidden } = referenceForward(w, c, { ids: [ids], pixels: [ones] });
    const H = c.hiddenSize;
    rows(hidden[0]!.inputEmbeds, H, 2, 3).forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 5));
    const embed = w.get('model.embed_tokens.weight')!;
    expect(rows(hidden[0]!.inputEmbeds, H, 0, 1)).toEqual(Array.from(embed.subarray(65 * H, 66 * H)));
  });

  test('a block whose q/k weights vanish attends uniformly: with v = c and W_proj = I it adds c to every patch', () => {
    const wb = new Map(w);
    const qkv = new Float64Array(3 * Hv * Hv);
    const bias = new Float64Array(3 * Hv);
    for (let k = 0; k < Hv; k++) bias[2 * Hv + k] = 0.5 + 0.1 * k; // c, the v part
    const proj = new Float64Array(Hv * Hv);
    for (let k = 0; k < Hv; k++) proj[k * Hv + k] = 1;
    wb.set('visual.blocks.0.attn.qkv.weight', qkv).set('visual.blocks.0.attn.qkv.bias', bias).set('visual.blocks.0.attn.proj.weight', proj);
    const { blocks } = referenceVision(wb, v, c.hiddenSize, ones);
    for (let n = 0; n < v.fixed!.numPatches; n++) for (let k = 0; k < Hv; k++) expect(blocks[0]![n * Hv + k]).toBeCloseTo(sign(k) + 0.5 + 0.1 * k, 12);
  });
});

describe('fixture quality through the reference', () => {
  test('activations stay O(1) across layers and greedy generation is varied', () => {
    const model = generateTinyModel();
    const c = model.modelConfig;
    const w = weightsOf(model);
    const ids = [72, 101, 108, 108, 111, c.visionStartTokenId!, ...Array<number>(4).fill(c.imageTokenId!), c.visionEndTokenId!, 32, 119];
    const px = pattern(c);
    const { hidden } = referenceForward(w, c, { ids: [ids], pixels: [px] });
    const rms = (a: Float64Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    for (const r of hidden[0]!.residPost) expect(rms(r)).toBeGreaterThan(0.5), expect(rms(r)).toBeLessThan(10);
    const out = referenceGreedy(w, c, ids, px, 10);
    expect(new Set(out).size).toBeGreaterThanOrEqual(4);
  });
});
