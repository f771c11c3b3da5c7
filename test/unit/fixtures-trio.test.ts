import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checkpoint } from '../../src/engine/checkpoint/index.js';
import { generatePlantedTrio, writePlantedTrio } from '../../src/engine/fixtures/index.js';

const SMALL = { numLayers: 6, numVisionBlocks: 2, hidden: 32, intermediate: 48, vocab: 64, visionHidden: 16, visionIntermediate: 24 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-fixtures-trio-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function withCheckpoint<T>(dir: string, fn: (c: Checkpoint) => Promise<T>): Promise<T> {
  const c = await Checkpoint.open(dir);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

describe('planted trio: determinism', () => {
  it('the same seed writes byte-identical files; another seed does not', async () => {
    const a = await writePlantedTrio(join(root, 'a'), { ...SMALL, seed: 7 });
    const b = await writePlantedTrio(join(root, 'b'), { ...SMALL, seed: 7 });
    const c = await writePlantedTrio(join(root, 'c'), { ...SMALL, seed: 8 });
    for (const phase of ['base', 'sft', 'rl'] as const) {
      expect(await readdir(a[phase])).toEqual(['config.json', 'model.safetensors']);
      for (const f of ['config.json', 'model.safetensors']) {
        expect((await readFile(join(a[phase], f))).equals(await readFile(join(b[phase], f)))).toBe(true);
      }
      const fa = await withCheckpoint(a[phase], (x) => x.fingerprint());
      expect(await withCheckpoint(b[phase], (x) => x.fingerprint())).toBe(fa);
      expect(await withCheckpoint(c[phase], (x) => x.fingerprint())).not.toBe(fa);
    }
    const fps = await Promise.all((['base', 'sft', 'rl'] as const).map((p) => withCheckpoint(a[p], (x) => x.fingerprint())));
    expect(new Set(fps).size).toBe(3);
  });
});

describe('planted trio: Qwen2.5-VL layout', () => {
  const trio = generatePlantedTrio(SMALL);
  const names = [...trio.base.keys()];

  it('has the Hugging Face tensor names with shapes that agree with config.json', () => {
    const cfg = trio.config as Record<string, number> & { vision_config: Record<string, number>; model_type: string };
    const shape = (n: string) => trio.base.get(n)?.shape;
    expect(cfg.model_type).toBe('qwen2_5_vl');
    expect(cfg.tie_word_embeddings).toBe(false);
    const h = cfg.hidden_size;
    const kv = (h / cfg.num_attention_heads) * cfg.num_key_value_heads;
    const vc = cfg.vision_config;
    expect(vc.depth).toBe(2);
    expect(shape('visual.patch_embed.proj.weight')).toEqual([vc.hidden_size, vc.in_chans, vc.temporal_patch_size, vc.patch_size, vc.patch_size]);
    expect(shape('visual.blocks.1.attn.qkv.weight')).toEqual([3 * vc.hidden_size, vc.hidden_size]);
    expect(shape('visual.blocks.1.mlp.down_proj.weight')).toEqual([vc.hidden_size, vc.intermediate_size]);
    expect(shape('visual.merger.mlp.0.weight')).toEqual([vc.hidden_size * 4, vc.hidden_size * 4]);
    expect(shape('visual.merger.mlp.2.weight')).toEqual([vc.out_hidden_size, vc.hidden_size * 4]);
    expect(shape('model.embed_tokens.weight')).toEqual([cfg.vocab_size, h]);
    expect(shape('lm_head.weight')).toEqual([cfg.vocab_size, h]);
    expect(shape('model.layers.5.self_attn.k_proj.weight')).toEqual([kv, h]);
    expect(shape('model.layers.5.self_attn.k_proj.bias')).toEqual([kv]);
    expect(shape('model.layers.5.mlp.gate_proj.weight')).toEqual([cfg.intermediate_size, h]);
    expect(shape('model.norm.weight')).toEqual([h]);
    expect(names.filter((n) => /^model\.layers\.\d+\.self_attn\.q_proj\.weight$/.test(n))).toHaveLength(cfg.num_hidden_layers);
    expect(names.filter((n) => /^visual\.blocks\.0\./.test(n))).toHaveLength(12);
    expect(names.filter((n) => /^model\.layers\.0\./.test(n))).toHaveLength(12); // 2 norms, q/k/v weight+bias, o, gate/up/down
    expect(names).toEqual([...names].sort());
    const mrope = (cfg as unknown as { rope_scaling: { mrope_section: number[] } }).rope_scaling.mrope_section;
    expect(mrope.reduce((a, b) => a + b, 0)).toBe(h / cfg.num_attention_heads / 2);
  });

  it('rejects invalid options by name', () => {
    expect(() => generatePlantedTrio({ hidden: 48 })).toThrow(/'hidden' must be a power of two/);
    expect(() => generatePlantedTrio({ numKvHeads: 3 })).toThrow(/'numKvHeads'/);
    expect(() => generatePlantedTrio({ seed: -1 })).toThrow(/'seed'/);
    expect(() => generatePlantedTrio({ numLayers: 0 })).toThrow(/'numLayers'/);
  });
});

describe('planted trio: storage', () => {
  it('stores exactly the same values in F32, F16 and BF16', async () => {
    const trio = generatePlantedTrio(SMALL);
    const dirs = await Promise.all((['F32', 'F16', 'BF16'] as const).map((dtype) => writePlantedTrio(join(root, `dtype-${dtype}`), { ...SMALL, dtype })));
    for (const [i, dtype] of (['F32', 'F16', 'BF16'] as const).entries()) {
      for (const phase of ['base', 'sft', 'rl'] as const) {
        await withCheckpoint(dirs[i]![phase], async (c) => {
          expect(c.dominantDtype()).toBe(dtype);
          expect(c.config.torch_dtype).toBe({ F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype]);
          expect(c.parameterCount()).toBe([...trio.base.values()].reduce((a, t) => a + t.data.length, 0));
          for (const [name, t] of trio[phase]) {
            const got = await c.readFloat32(name);
            expect(c.tensors.get(name)!.shape).toEqual(t.shape);
            let diff = 0;
            for (let k = 0; k < got.length; k++) if (got[k] !== t.data[k]) diff++;
            expect([name, diff]).toEqual([name, 0]);
          }
        });
      }
    }
  });

  it('writes sharded checkpoints with an index that read back to the same tensors', async () => {
    const { base, trio } = await writePlantedTrio(join(root, 'sharded'), { ...SMALL, shards: 3 });
    expect((await readdir(base)).sort()).toEqual([
      'config.json',
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
      'model.safetensors.index.json',
    ]);
    await withCheckpoint(base, async (c) => {
      expect(new Set([...c.tensors.values()].map((t) => t.file)).size).toBe(3);
      expect([...c.tensors.keys()]).toEqual([...trio.base.keys()]);
      expect([...(await c.readFloat32('lm_head.weight'))]).toEqual([...trio.base.get('lm_head.weight')!.data]);
    });
    await expect(writePlantedTrio(join(root, 'bad'), { ...SMALL, shards: 0 })).rejects.toThrow(/'shards'/);
  });
});
