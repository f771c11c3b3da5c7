import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { generateTinyModel, generateTinyTrio, writeTinyModel, writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { parseModelConfig } from '../../src/engine/model/config.js';
import { TextTokenizer } from '../../src/engine/model/tokenizer.js';

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-tiny-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeTinyModel', () => {
  test('the same seed gives identical bytes; another seed other weights', async () => {
    await writeTinyModel(join(root, 'a'), { seed: 3 });
    await writeTinyModel(join(root, 'b'), { seed: 3 });
    await writeTinyModel(join(root, 'c'), { seed: 4 });
    for (const f of FILES) expect((await readFile(join(root, 'a', f))).equals(await readFile(join(root, 'b', f)))).toBe(true);
    expect((await readFile(join(root, 'a', 'model.safetensors'))).equals(await readFile(join(root, 'c', 'model.safetensors')))).toBe(false);
  });

  test('loads through Checkpoint.open with the in-memory values, and its tokenizer holds the config ids', async () => {
    const dir = join(root, 'vl');
    const model = await writeTinyModel(dir, { seed: 5 });
    const ckpt = await Checkpoint.open(dir);
    try {
      expect([...ckpt.tensors.keys()]).toEqual([...model.tensors.keys()]);
      for (const [name, t] of model.tensors) {
        expect(ckpt.tensors.get(name)!.shape).toEqual(t.shape);
        expect(await ckpt.readFloat32(name)).toEqual(t.data);
      }
      const c = parseModelConfig(ckpt.config);
      expect(c).toEqual(model.modelConfig);
      const tok = await TextTokenizer.load(dir);
      expect(tok.tokenId('<|image_pad|>')).toBe(c.imageTokenId);
      expect(tok.tokenId('<|vision_start|>')).toBe(c.visionStartTokenId);
      expect(tok.tokenId('<|vision_end|>')).toBe(c.visionEndTokenId);
      expect(c.eosTokenIds).toEqual([tok.tokenId('<|endoftext|>')]);
      expect(tok.size).toBeLessThanOrEqual(c.vocabSize);
    } finally {
      await ckpt.close();
    }
  });

  test('F16 storage: the in-memory values are the stored (rounded) ones', async () => {
    const dir = join(root, 'f16');
    const model = await writeTinyModel(dir, { dtype: 'F16', textOnly: true });
    const ckpt = await Checkpoint.open(dir);
    try {
      expect(ckpt.dominantDtype()).toBe('F16');
      expect(ckpt.config.torch_dtype).toBe('float16');
      const name = 'model.layers.0.self_attn.q_proj.weight';
      const stored = await ckpt.readFloat32(name);
      expect(stored).toEqual(model.tensors.get(name)!.data);
      expect(stored).not.toEqual(generateTinyModel({ textOnly: true }).tensors.get(name)!.data);
    } finally {
      await ckpt.close();
    }
  });
});

describe('generateTinyModel', () => {
  test('default sizes and shapes follow docs/model.md', () => {
    const { modelConfig: c, tensors } = generateTinyModel();
    expect(c).toMatchObject({ modelType: 'frankenscope_vl', hiddenSize: 64, intermediateSize: 128, numLayers: 12, numHeads: 4, numKvHeads: 2, headDim: 16, vocabSize: 272 });
    expect(c.vision).toMatchObject({ hiddenSize: 32, numHeads: 2, headDim: 16, depth: 2, patchSize: 4, spatialMergeSize: 2 });
    expect(c.vision!.fixed).toMatchObject({ imageSize: [16, 16], numPatches: 16, numVisualTokens: 4 });
    const shape = (n: string): number[] | undefined => tensors.get(n)?.shape;
    expect(shape('visual.patch_embed.proj.weight')).toEqual([32, 3, 2, 4, 4]);
    expect(shape('visual.blocks.1.attn.qkv.weight')).toEqual([96, 32]);
    expect(shape('visual.merger.mlp.0.weight')).toEqual([128, 128]);
    expect(shape('visual.merger.mlp.2.weight')).toEqual([64, 128]);
    expect(shape('model.layers.11.self_attn.k_proj.weight')).toEqual([32, 64]);
    expect(shape('model.layers.0.self_attn.o_proj.weight')).toEqual([64, 64]);
    expect(shape('model.layers.0.mlp.down_proj.weight')).toEqual([64, 128]);
    expect(shape('lm_head.weight')).toEqual([272, 64]);
    expect(shape('model.layers.0.self_attn.o_proj.bias')).toBeUndefined();
    expect(shape('visual.blocks.2.norm1.weight')).toBeUndefined();
  });

  test('text-only and tied variants; language-model tensors do not depend on the vision tower', () => {
    const text = generateTinyModel({ textOnly: true, tieWordEmbeddings: true });
    expect(text.config.model_type).toBe('qwen2');
    expect([...text.tensors.keys()].some((n) => n.startsWith('visual.'))).toBe(false);
    expect(text.tensors.has('lm_head.weight')).toBe(false);
    const vl = generateTinyModel();
    expect(text.tensors.get('model.layers.3.mlp.up_proj.weight')!.data).toEqual(vl.tensors.get('model.layers.3.mlp.up_proj.weight')!.data);
  });

  test('weights have the intended scale: linear std ≈ 1/sqrt(fan_in), norms near 1', () => {
    const { tensors } = generateTinyModel();
    const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(std(tensors.get('model.layers.0.mlp.gate_proj.weight')!.data) * 8).toBeCloseTo(1, 1);
    expect(std(tensors.get('model.embed_tokens.weight')!.data)).toBeCloseTo(1, 1);
    const n = tensors.get('model.norm.weight')!.data;
    expect(n.reduce((s, x) => s + x, 0) / n.length).toBeCloseTo(1, 1);
  });
});

describe('tiny trio', () => {
  test('sft changes every tensor a little; rl changes only the late half of the decoder layers', () => {
    const { base, sft, rl, rlLayers } = generateTinyTrio({ seed: 2 });
    expect(rlLayers).toEqual([6, 7, 8, 9, 10, 11]);
    for (const [name, t] of base.tensors) {
      const s = sft.tensors.get(name)!.data;
      let diff = 0;
      let size = 0;
      for (let i = 0; i < s.length; i++) {
        diff += (s[i]! - t.data[i]!) ** 2;
        size += t.data[i]! ** 2;
      }
      expect(diff, name).toBeGreaterThan(0);
      expect(Math.sqrt(diff / size), name).toBeLessThan(0.2);
      const layer = /^model\.layers\.(\d+)\./.exec(name);
      const late = layer !== null && Number(layer[1]) >= 6;
      expect(rl.tensors.get(name)!.data.some((x, i) => x !== s[i]), name).toBe(late);
    }
  });

  test('writeTinyTrio writes three complete, loadable models', async () => {
    const paths = await writeTinyTrio(join(root, 'trio'), { seed: 2, textOnly: true, numLayers: 4 });
    for (const dir of [paths.base, paths.sft, paths.rl]) {
      const ckpt = await Checkpoint.open(dir);
      expect(parseModelConfig(ckpt.config).numLayers).toBe(4);
      await ckpt.close();
      await TextTokenizer.load(dir);
    }
  });
});
