/**
 * Properties of the independent float64 Qwen2-VL / Qwen2.5-VL reference
 * (test/reference/qwen-vl) and of the hub-layout fixture generator, none of
 * which depend on the engine.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { generateHubQwenVl, hubQwenVlShapes, QWEN_VL_TOKEN_IDS, writeHubQwenVl, type HubQwenVlOptions } from '../../src/engine/fixtures/hub-qwen-vl.js';
import { Rng } from '../../src/engine/fixtures/rng.js';
import {
  expandImagePads, loadQwenVlReference, mropeCosSin, readQwenVlConfig, referenceGreedy, referenceQwenVl, refWeights,
  type GridThw, type QwenVlRefConfig, type RefImage, type RefTensor,
} from '../reference/qwen-vl/forward.js';
import { getRopeIndex } from '../reference/qwen-vl/rope-index.js';
import { referenceVision, visionPositionIds, visionRotary, windowIndex } from '../reference/qwen-vl/vision.js';

const S = QWEN_VL_TOKEN_IDS.visionStart;
const P = QWEN_VL_TOKEN_IDS.imagePad;
const E = QWEN_VL_TOKEN_IDS.visionEnd;
const TOK = { imageTokenId: P, visionStartTokenId: S };
const pads = (n: number): number[] => new Array<number>(n).fill(P);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function image(grid: GridThw, seed: number): RefImage {
  const rng = new Rng(seed);
  const n = grid[0] * grid[1] * grid[2] * 3 * 2 * 14 * 14;
  return { gridThw: grid, pixelValues: Float64Array.from({ length: n }, () => rng.normal()) };
}

const models = new Map<string, { cfg: QwenVlRefConfig; w: Map<string, RefTensor> }>();
/** A generated model as reference config + weights (memoised: generation dominates the run time). */
function model(options: HubQwenVlOptions): { cfg: QwenVlRefConfig; w: Map<string, RefTensor> } {
  const key = JSON.stringify(options);
  let m = models.get(key);
  if (!m) {
    const g = generateHubQwenVl(options);
    m = { cfg: readQwenVlConfig(g.config), w: refWeights(g.tensors) };
    models.set(key, m);
  }
  return m;
}

describe('get_rope_index (hand-computed)', () => {
  it('text only: (s, s, s) and delta 0', () => {
    const r = getRopeIndex([[5, 6, 7, 8]], null, TOK, 2);
    expect(r.positions[0]).toEqual([[0, 1, 2, 3], [0, 1, 2, 3], [0, 1, 2, 3]]);
    expect(r.ropeDeltas).toEqual([0]);
  });

  it('text only with left padding: cumsum(mask) - 1, padding at 1', () => {
    const r = getRopeIndex([[0, 5, 6], [5, 6, 7]], null, TOK, 2, [[0, 1, 1], [1, 1, 1]]);
    expect(r.positions[0]![0]).toEqual([1, 0, 1]);
    expect(r.positions[1]![2]).toEqual([0, 1, 2]);
    expect(r.ropeDeltas).toEqual([-1, 0]);
  });

  it('image at the start: (b, b+i, b+j), text after continues at max+1', () => {
    const r = getRopeIndex([[S, ...pads(6), E, 7, 8]], [[1, 4, 6]], TOK, 2);
    expect(r.positions[0]).toEqual([
      [0, 1, 1, 1, 1, 1, 1, 4, 5, 6],
      [0, 1, 1, 1, 2, 2, 2, 4, 5, 6],
      [0, 1, 2, 3, 1, 2, 3, 4, 5, 6],
    ]);
    expect(r.ropeDeltas).toEqual([7 - 10]);
  });

  it('image in the middle', () => {
    const r = getRopeIndex([[10, 11, S, ...pads(4), E, 12]], [[1, 4, 4]], TOK, 2);
    expect(r.positions[0]).toEqual([
      [0, 1, 2, 3, 3, 3, 3, 5, 6],
      [0, 1, 2, 3, 3, 4, 4, 5, 6],
      [0, 1, 2, 3, 4, 3, 4, 5, 6],
    ]);
    expect(r.ropeDeltas).toEqual([-2]);
  });

  it('two images in one prompt', () => {
    const r = getRopeIndex([[S, ...pads(4), E, S, ...pads(2), E, 9]], [[1, 4, 4], [1, 2, 4]], TOK, 2);
    expect(r.positions[0]).toEqual([
      [0, 1, 1, 1, 1, 3, 4, 5, 5, 7, 8],
      [0, 1, 1, 2, 2, 3, 4, 5, 5, 7, 8],
      [0, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    expect(r.ropeDeltas).toEqual([9 - 11]);
  });

  it('left padding per row, images consumed in batch order', () => {
    const ids = [
      [0, 0, 10, S, ...pads(4), E],
      [10, 11, S, ...pads(4), E, 12],
    ];
    const mask = [[0, 0, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]];
    const r = getRopeIndex(ids, [[1, 4, 4], [1, 2, 8]], TOK, 2, mask);
    expect(r.positions[0]).toEqual([
      [1, 1, 0, 1, 2, 2, 2, 2, 4],
      [1, 1, 0, 1, 2, 2, 3, 3, 4],
      [1, 1, 0, 1, 2, 3, 2, 3, 4],
    ]);
    expect(r.positions[1]).toEqual([
      [0, 1, 2, 3, 3, 3, 3, 7, 8],
      [0, 1, 2, 3, 3, 3, 3, 7, 8],
      [0, 1, 2, 3, 4, 5, 6, 7, 8],
    ]);
    expect(r.ropeDeltas).toEqual([5 - 9, 0]);
  });

  it('expandImagePads: one pad per image becomes t*h*w/merge^2 pads', () => {
    const { ids, imagesUsed } = expandImagePads([1, S, P, E, S, P, E], [[1, 4, 6], [1, 2, 2]], P, 2);
    expect(ids).toEqual([1, S, ...pads(6), E, S, P, E]);
    expect(imagesUsed).toBe(2);
  });
});

describe('vision rotary and windows (hand-computed)', () => {
  it('patch order is merge-block major, and the angles are [h*inv, w*inv] twice', () => {
    expect(visionPositionIds([1, 2, 4], 2)).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [0, 2], [0, 3], [1, 2], [1, 3]]);
    const { cos, sin } = visionRotary([[3, 5]], 8); // headDim 8: inv = [1, 1/100]
    const a = [3, 3 / 100, 5, 5 / 100];
    for (let c = 0; c < 8; c++) {
      expect(cos[c]).toBeCloseTo(Math.cos(a[c % 4]!), 14);
      expect(sin[c]).toBeCloseTo(Math.sin(a[c % 4]!), 14);
    }
  });

  it('window index: 2x2 windows over a 4x3 merged grid, smaller windows at the right and bottom, then a second image', () => {
    const r = windowIndex([[1, 8, 6], [1, 4, 4]], 56, 2, 14);
    expect(r.windowIndex).toEqual([0, 1, 3, 4, 2, 5, 6, 7, 9, 10, 8, 11, 12, 13, 14, 15]);
    expect(r.cuWindowSeqlens).toEqual([0, 16, 24, 40, 48, 64]);
  });

  it('window index: windows larger than the image give the identity and one window per image', () => {
    const r = windowIndex([[1, 8, 6]], 112 * 4, 2, 14);
    expect(r.windowIndex).toEqual([...Array(12).keys()]);
    expect(r.cuWindowSeqlens).toEqual([0, 48]);
  });
});

describe('vision tower properties', () => {
  for (const family of ['qwen2_vl', 'qwen2_5_vl'] as const) {
    it(`${family}: two images in one call give the same tokens as each image alone`, () => {
      const { cfg, w } = model({ family, dtype: 'F32', vocabSize: 151680 });
      const a = image([1, 8, 6], 11);
      const b = image([1, 4, 8], 12);
      const both = referenceVision(cfg, w, [a, b]);
      const alone = [...referenceVision(cfg, w, [a]), ...referenceVision(cfg, w, [b])];
      expect(both.length).toBe((12 + 8) * cfg.hidden);
      expect(maxAbsDiff(both, alone)).toBeLessThan(1e-12);
      expect(both.every(Number.isFinite)).toBe(true);
    });
  }

  it('qwen2_5_vl: window_size covering the image equals full attention in every block', () => {
    const { cfg, w } = model({ family: 'qwen2_5_vl', dtype: 'F32', vocabSize: 151680 });
    const im = [image([1, 8, 6], 3)];
    const windowed = referenceVision(cfg, w, im, { windowSize: 10_000, fullattBlockIndexes: [] });
    const full = referenceVision(cfg, w, im, { fullattBlockIndexes: [0, 1, 2] });
    expect(maxAbsDiff(windowed, full)).toBeLessThan(1e-12);
  });

  it('qwen2_5_vl: the window reordering is undone (all blocks full: window_size does not matter)', () => {
    const { cfg, w } = model({ family: 'qwen2_5_vl', dtype: 'F32', vocabSize: 151680 });
    const im = [image([1, 8, 6], 4), image([1, 4, 4], 5)];
    const ref = referenceVision(cfg, w, im, { windowSize: 10_000, fullattBlockIndexes: [0, 1, 2] });
    for (const ws of [28, 56, 84]) {
      expect(maxAbsDiff(referenceVision(cfg, w, im, { windowSize: ws, fullattBlockIndexes: [0, 1, 2] }), ref)).toBeLessThan(1e-12);
    }
  });

  it('qwen2_5_vl: real windows change the result (the windows are really applied)', () => {
    const { cfg, w } = model({ family: 'qwen2_5_vl', dtype: 'F32', vocabSize: 151680 });
    const im = [image([1, 8, 6], 6)];
    const windowed = referenceVision(cfg, w, im);
    const full = referenceVision(cfg, w, im, { fullattBlockIndexes: [0, 1, 2] });
    expect(maxAbsDiff(windowed, full)).toBeGreaterThan(1e-4);
  });
});

describe('language model properties', () => {
  it('M-RoPE with (s, s, s) positions is plain 1-D RoPE (closed form)', () => {
    const { cfg } = model({ family: 'qwen2_vl', dtype: 'F32', vocabSize: 151680 });
    const pos = [[0, 7, 100], [0, 7, 100], [0, 7, 100]];
    const { cos } = mropeCosSin(cfg, pos);
    const d = cfg.headDim;
    for (let i = 0; i < 3; i++) {
      for (let c = 0; c < d; c++) expect(cos[i * d + c]).toBeCloseTo(Math.cos(pos[0]![i]! * 1e6 ** (-(2 * (c % (d / 2))) / d)), 12);
    }
  });

  it('M-RoPE channel sections: t, h, w channels follow their own axis', () => {
    const { cfg } = model({ family: 'qwen2_vl', dtype: 'F32', vocabSize: 151680 }); // section [2, 3, 3], head 16
    const { cos } = mropeCosSin(cfg, [[1], [2], [3]]);
    const inv = (j: number): number => 1e6 ** (-(2 * j) / 16);
    const axisPos = [1, 1, 2, 2, 2, 3, 3, 3];
    for (let c = 0; c < 16; c++) expect(cos[c]).toBeCloseTo(Math.cos(axisPos[c % 8]! * inv(c % 8)), 12);
  });

  it('shifting every text position by a constant leaves the logits unchanged (rotary is relative)', () => {
    const { cfg, w } = model({ family: 'qwen2_vl', dtype: 'F32', vocabSize: 151680 });
    const ids = [[5, 9, 200, 31, 7]];
    const a = referenceQwenVl(cfg, w, { ids });
    const shifted = [0, 1, 2].map(() => [40, 41, 42, 43, 44]);
    const b = referenceQwenVl(cfg, w, { ids, positions: [shifted] });
    expect(maxAbsDiff(a.logits[0]!, b.logits[0]!)).toBeLessThan(1e-9);
  });

  for (const family of ['qwen2_vl', 'qwen2_5_vl'] as const) {
    it(`${family}: a left-padded batch with images equals each row alone`, () => {
      const { cfg, w } = model({ family, dtype: 'F32', vocabSize: 151680 });
      const g0: GridThw = [1, 8, 6];
      const g1: GridThw = [1, 4, 4];
      const row0 = [QWEN_VL_TOKEN_IDS.imStart, 88, S, ...pads(12), E, 120, 77];
      const row1 = [99, S, ...pads(4), E, 5];
      const L = row0.length;
      const padded = [...new Array<number>(L - row1.length).fill(QWEN_VL_TOKEN_IDS.endOfText), ...row1];
      const mask = [row0.map(() => 1), padded.map((_, i) => (i < L - row1.length ? 0 : 1))];
      const im0 = image(g0, 21);
      const im1 = image(g1, 22);
      const batch = referenceQwenVl(cfg, w, { ids: [row0, padded], attentionMask: mask, images: [im0, im1] });
      const alone0 = referenceQwenVl(cfg, w, { ids: [row0], images: [im0] });
      const alone1 = referenceQwenVl(cfg, w, { ids: [row1], images: [im1] });
      expect(maxAbsDiff(batch.logits[0]!, alone0.logits[0]!)).toBeLessThan(1e-9);
      const V = cfg.vocabSize;
      expect(maxAbsDiff(batch.logits[1]!.subarray((L - row1.length) * V), alone1.logits[0]!)).toBeLessThan(1e-9);
      expect(Number.isNaN(batch.logits[1]![0])).toBe(true);
      expect(batch.ropeIndex.ropeDeltas[1]).toBe(alone1.ropeIndex.ropeDeltas[0]! - (L - row1.length));
    });
  }

  it('greedy decode positions max+1+k equal get_rope_index over the grown sequence', () => {
    const { cfg, w } = model({ family: 'qwen2_5_vl', dtype: 'F32', vocabSize: 151680 });
    const im = image([1, 4, 4], 31);
    const ids = [[QWEN_VL_TOKEN_IDS.imStart, S, ...pads(4), E, 42, 43]];
    const g = referenceGreedy(cfg, w, { ids, images: [im] }, { maxNewTokens: 3 });
    expect(g.tokens[0]!.length).toBe(3);
    const grown = [[...ids[0]!, ...g.tokens[0]!.slice(0, 2)]];
    const again = referenceQwenVl(cfg, w, { ids: grown, images: [im] }); // positions from get_rope_index
    const last = again.logits[0]!.subarray((grown[0]!.length - 1) * cfg.vocabSize);
    expect(maxAbsDiff(last, g.stepLogits[0]![2]!)).toBeLessThan(1e-9);
    const p = again.ropeIndex.positions[0]![0]!;
    expect(p.slice(-3)).toEqual([p.at(-3)!, p.at(-3)! + 1, p.at(-3)! + 2]);
  });

  it('tied: the embedding is the head even when lm_head.weight is in the files', () => {
    const m = generateHubQwenVl({ family: 'qwen2_vl', dtype: 'F32', vocabSize: 151680, tied: true, tiedHeadInFiles: true });
    expect(m.tensors.has('lm_head.weight')).toBe(true);
    const cfg = readQwenVlConfig(m.config);
    const w = refWeights(m.tensors);
    const out = referenceQwenVl(cfg, w, { ids: [[3, 4, 5]] });
    const emb = w.get('model.embed_tokens.weight')!.data;
    const h = out.lastHidden[0]!.subarray(2 * cfg.hidden, 3 * cfg.hidden);
    for (const v of [0, 17, 151679]) {
      let s = 0;
      for (let c = 0; c < cfg.hidden; c++) s += emb[v * cfg.hidden + c]! * h[c]!;
      expect(out.logits[0]![2 * cfg.vocabSize + v]).toBeCloseTo(s, 10);
    }
  });
});

/** Every tensor name of a real checkpoint, from transformers' modeling code (hub naming). */
function expectedHubNames(family: 'qwen2_vl' | 'qwen2_5_vl', depth: number, layers: number, withHead: boolean): string[] {
  const names = ['visual.patch_embed.proj.weight', 'visual.merger.ln_q.weight', 'visual.merger.mlp.0.weight', 'visual.merger.mlp.0.bias', 'visual.merger.mlp.2.weight', 'visual.merger.mlp.2.bias'];
  if (family === 'qwen2_vl') names.push('visual.merger.ln_q.bias');
  for (let i = 0; i < depth; i++) {
    const p = `visual.blocks.${i}.`;
    names.push(`${p}norm1.weight`, `${p}norm2.weight`, `${p}attn.qkv.weight`, `${p}attn.qkv.bias`, `${p}attn.proj.weight`, `${p}attn.proj.bias`);
    if (family === 'qwen2_vl') names.push(`${p}norm1.bias`, `${p}norm2.bias`, `${p}mlp.fc1.weight`, `${p}mlp.fc1.bias`, `${p}mlp.fc2.weight`, `${p}mlp.fc2.bias`);
    else for (const m of ['gate_proj', 'up_proj', 'down_proj']) names.push(`${p}mlp.${m}.weight`, `${p}mlp.${m}.bias`);
  }
  names.push('model.embed_tokens.weight', 'model.norm.weight');
  for (let i = 0; i < layers; i++) {
    const p = `model.layers.${i}.`;
    names.push(`${p}input_layernorm.weight`, `${p}post_attention_layernorm.weight`, `${p}self_attn.o_proj.weight`);
    for (const m of ['q_proj', 'k_proj', 'v_proj']) names.push(`${p}self_attn.${m}.weight`, `${p}self_attn.${m}.bias`);
    for (const m of ['gate_proj', 'up_proj', 'down_proj']) names.push(`${p}mlp.${m}.weight`);
  }
  if (withHead) names.push('lm_head.weight');
  return names.sort();
}

describe('hub-layout generator', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hub-qwen-vl-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  for (const family of ['qwen2_vl', 'qwen2_5_vl'] as const) {
    it(`${family}: BF16 shards with an index load with our safetensors reader, with the hub names and shapes`, async () => {
      const dir = join(root, `${family}-hub`);
      const m = await writeHubQwenVl(dir, { family });
      const files = (await readdir(dir)).sort();
      expect(files).toEqual([
        'chat_template.json', 'config.json', 'generation_config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
        'model.safetensors.index.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json',
      ]);
      const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
      expect(new Set(Object.values(index.weight_map)).size).toBe(2);
      const ckpt = await Checkpoint.open(dir);
      try {
        expect([...ckpt.tensors.keys()].sort()).toEqual(expectedHubNames(family, 3, 2, true));
        for (const t of ckpt.tensors.values()) expect(t.dtype).toBe('BF16');
        const E = 32;
        expect(ckpt.tensors.get('visual.patch_embed.proj.weight')!.shape).toEqual([E, 3, 2, 14, 14]);
        expect(ckpt.tensors.get('visual.blocks.0.attn.qkv.weight')!.shape).toEqual([3 * E, E]);
        expect(ckpt.tensors.get('visual.merger.mlp.0.weight')!.shape).toEqual([4 * E, 4 * E]);
        expect(ckpt.tensors.get('visual.merger.mlp.2.weight')!.shape).toEqual([32, 4 * E]);
        expect(ckpt.tensors.get('model.layers.1.self_attn.k_proj.weight')!.shape).toEqual([16, 32]);
        expect(ckpt.tensors.get('model.embed_tokens.weight')!.shape).toEqual([151936, 32]);
        const mlp = family === 'qwen2_vl' ? ['visual.blocks.2.mlp.fc1.weight', [64, E]] : ['visual.blocks.2.mlp.gate_proj.weight', [48, E]];
        expect(ckpt.tensors.get(mlp[0] as string)!.shape).toEqual(mlp[1]);
        const back = await ckpt.readFloat32('model.layers.0.self_attn.q_proj.bias');
        expect([...back]).toEqual([...m.tensors.get('model.layers.0.self_attn.q_proj.bias')!.data]);
      } finally {
        await ckpt.close();
      }
      const shapes = hubQwenVlShapes({ family });
      for (const [name, shape] of shapes) expect(m.tensors.get(name)!.shape).toEqual(shape);
    });
  }

  it('real special-token ids in tokenizer.json, and the processor / generation configs', () => {
    const m = generateHubQwenVl({ family: 'qwen2_5_vl' });
    const added = m.tokenizerJson.added_tokens as { id: number; content: string }[];
    const byName = new Map(added.map((t) => [t.content, t.id]));
    expect(byName.get('<|endoftext|>')).toBe(151643);
    expect(byName.get('<|im_start|>')).toBe(151644);
    expect(byName.get('<|im_end|>')).toBe(151645);
    expect(byName.get('<|vision_start|>')).toBe(151652);
    expect(byName.get('<|vision_end|>')).toBe(151653);
    expect(byName.get('<|image_pad|>')).toBe(151655);
    expect(byName.get('<|video_pad|>')).toBe(151656);
    expect(Math.max(...added.map((t) => t.id))).toBe(151664);
    expect(Math.max(...(generateHubQwenVl({ family: 'qwen2_vl' }).tokenizerJson.added_tokens as { id: number }[]).map((t) => t.id))).toBe(151656);
    expect(m.generationConfig.eos_token_id).toEqual([151645, 151643]);
    expect(m.preprocessorConfig).toMatchObject({ patch_size: 14, merge_size: 2, temporal_patch_size: 2 });
    expect(m.config).toMatchObject({ image_token_id: 151655, vision_start_token_id: 151652, vocab_size: 151936 });
  });

  it('re-saved naming and every rope spelling read to the same config and the same logits', async () => {
    const base = { family: 'qwen2_5_vl' as const, dtype: 'BF16' as const, vocabSize: 151680 };
    const hubDir = join(root, 'rs-hub');
    const resDir = join(root, 'rs-resaved');
    await writeHubQwenVl(hubDir, base);
    const resaved = await writeHubQwenVl(resDir, { ...base, naming: 'resaved', ropeSpelling: 'rope_parameters', shards: 3 });
    expect([...resaved.tensors.keys()].some((n) => n.startsWith('model.language_model.layers.'))).toBe(true);
    expect([...resaved.tensors.keys()].some((n) => n.startsWith('model.visual.blocks.'))).toBe(true);
    expect(resaved.config.text_config).toBeDefined();
    const a = await loadQwenVlReference(hubDir);
    const b = await loadQwenVlReference(resDir);
    expect(b.config).toEqual(a.config);
    const c = readQwenVlConfig(generateHubQwenVl({ ...base, naming: 'resaved', ropeSpelling: 'default' }).config);
    const d = readQwenVlConfig(generateHubQwenVl({ ...base, ropeSpelling: 'mrope' }).config);
    expect(c).toEqual(a.config);
    expect(d).toEqual(a.config);
    expect(a.config.ropeTheta).toBe(1e6);
    expect(a.config.slidingWindows.every((x) => x === null)).toBe(true);
    const input = { ids: [[QWEN_VL_TOKEN_IDS.imStart, S, ...pads(4), E, 12]], images: [image([1, 4, 4], 9)] };
    const la = referenceQwenVl(a.config, a.weights, input).logits[0]!;
    const lb = referenceQwenVl(b.config, b.weights, input).logits[0]!;
    expect(maxAbsDiff(la, lb)).toBe(0);
  });
});
