/**
 * Writes the demo checkpoints data/demo/{base,sft,rl} (a miniature
 * Qwen2.5-VL trio with planted weight differences) plus data/demo/planted.json
 * (the planted singular values per tensor) and data/demo/README.md.
 *
 *   npx tsx scripts/make-demo.ts [--out data/demo] [--dtype BF16|F16] [--seed 2026]
 *
 * Deterministic: the same options write byte-identical files. Values are
 * exact in BF16 and F16 (see src/engine/fixtures/planted-trio.ts), so the
 * planted metrics hold for the committed files with no rounding tolerance.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { Checkpoint } from '../src/engine/checkpoint/index.js';
import { plantedExpectations, tinyTokenIds, tinyTokenizerFiles, writePlantedTrio, type TrioOptions } from '../src/engine/fixtures/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Demo sizes: ~0.9 M parameters per checkpoint, ~1.75 MB each in 16-bit. */
export const DEMO_DIMS: TrioOptions = Object.freeze({
  hidden: 64,
  intermediate: 176,
  numLayers: 12,
  numHeads: 4,
  numKvHeads: 2,
  vocab: 512,
  visionHidden: 64,
  visionIntermediate: 128,
  numVisionBlocks: 4,
  visionHeads: 4,
});

function dtypeOption(value: string): 'BF16' | 'F16' {
  const v = value.toUpperCase();
  if (v !== 'BF16' && v !== 'F16') throw new InvalidArgumentError(`expected BF16 or F16, got '${value}'`);
  return v;
}

function seedOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError(`expected an integer seed in [0, 2^32), got '${value}'`);
  return n;
}

function readme(dtype: string, seed: number): string {
  return `# Demo checkpoints (generated; do not edit)

Written by \`npx tsx scripts/make-demo.ts --dtype ${dtype} --seed ${seed}\`.
A miniature Qwen2.5-VL (Hugging Face naming; 12 decoder layers of width
${DEMO_DIMS.hidden}, 4 vision blocks of width ${DEMO_DIMS.visionHidden}, vocabulary ${DEMO_DIMS.vocab})
stored in ${dtype}. The weights are random: these models do not answer
questions. What they have is a planted, exactly known difference between
Base -> SFT and SFT -> RL, so the weight-diff analyses have a known answer.

Planted story (decoder layers: early 0-3, middle 4-7, late 8-11):

- SFT changes every tensor a little: each matrix by a rank-2 delta with
  singular values [2, 1] x unit, each norm weight and bias by one grid step
  per coordinate; and \`model.layers.1.self_attn.o_proj.weight\` by a
  full-rank delta with singular values 4, 3, 2, 1 (each on a quarter of the
  spectrum; condition number 4).
- RL changes only middle and late decoder layers: every q/k/v/o and
  gate/up/down projection by a rank-4 delta with singular values
  [4, 3, 2, 1] x unit in middle layers and [8, 6, 4, 2] x unit in late
  layers, plus a one-step change of both layer norms. Vision blocks,
  merger, embeddings, final norm and head are identical in SFT and RL.
- Subspaces: in q_proj and up_proj the top-2 left singular subspace of dRL
  equals that of dSFT (overlap 1, cosine 0); in o_proj both sides are
  shared (overlap 1, cosine 11/sqrt(150) ~ 0.898); in k/v/gate/down_proj
  they are orthogonal (overlap 0, cosine 0).

\`planted.json\` lists every planted delta with its singular values. Every
stored value is an integer multiple of a per-tensor power-of-two unit with at
most 256 steps, so it is exact in ${dtype}: the stored differences equal the
planted ones exactly.
`;
}

/**
 * A config.json the engine can run (docs/model.md, model_type
 * frankenscope_vl) for the planted weights, with the tiny byte-level
 * tokenizer's special ids; the planted trio's own config describes
 * Qwen2.5-VL (window attention, M-RoPE), which the engine does not run.
 */
function runnableConfig(dtype: 'BF16' | 'F16'): Record<string, unknown> {
  const d = DEMO_DIMS as Required<TrioOptions>;
  const ids = tinyTokenIds(false);
  return {
    architectures: ['FrankenscopeVLForConditionalGeneration'],
    model_type: 'frankenscope_vl',
    torch_dtype: dtype === 'BF16' ? 'bfloat16' : 'float16',
    hidden_act: 'silu',
    hidden_size: d.hidden,
    intermediate_size: d.intermediate,
    num_hidden_layers: d.numLayers,
    num_attention_heads: d.numHeads,
    num_key_value_heads: d.numKvHeads,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    vocab_size: d.vocab,
    tie_word_embeddings: false,
    eos_token_id: ids.endOfText,
    image_token_id: ids.imagePad,
    vision_start_token_id: ids.visionStart,
    vision_end_token_id: ids.visionEnd,
    vision_config: {
      hidden_act: 'silu',
      depth: d.numVisionBlocks,
      hidden_size: d.visionHidden,
      intermediate_size: d.visionIntermediate,
      num_heads: d.visionHeads,
      patch_size: 4,
      temporal_patch_size: 2,
      spatial_merge_size: 2,
      in_channels: 3,
      out_hidden_size: d.hidden,
      rms_norm_eps: 1e-6,
      image_size: [32, 32],
    },
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('make-demo')
    .description('write the planted demo trio to data/demo')
    .option('--out <dir>', 'output folder', join(REPO, 'data', 'demo'))
    .option('--dtype <dtype>', 'storage dtype: BF16 or F16', dtypeOption, 'BF16' as 'BF16' | 'F16')
    .option('--seed <n>', 'PRNG seed', seedOption, 2026)
    .parse();
  const { out, dtype, seed } = program.opts<{ out: string; dtype: 'BF16' | 'F16'; seed: number }>();
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  const written = await writePlantedTrio(dir, { ...DEMO_DIMS, dtype, seed });
  const expectations = plantedExpectations(written.trio);
  const planted = expectations.deltas.map((d) => ({
    tensor: d.tensor, phase: d.phase, role: d.role, rank: d.rank,
    fro: d.fro, spectralNorm: d.spectralNorm, singularValues: d.singularValues,
  }));
  // one delta per line: readable diffs without a 64-line spectrum per tensor
  const head = JSON.stringify({ generator: 'frankenscope planted trio v1', seed, dtype, dims: written.trio.dims });
  await writeFile(join(dir, 'planted.json'), `${head.slice(0, -1)},\n"deltas": [\n${planted.map((d) => JSON.stringify(d)).join(',\n')}\n]}\n`);
  await writeFile(join(dir, 'README.md'), readme(dtype, seed));
  const tokenizer = tinyTokenizerFiles(false);
  for (const phase of ['base', 'sft', 'rl'] as const) {
    await writeFile(join(written[phase], 'config.json'), JSON.stringify(runnableConfig(dtype), null, 2) + '\n');
    await writeFile(join(written[phase], 'tokenizer.json'), JSON.stringify(tokenizer.tokenizerJson) + '\n');
    await writeFile(join(written[phase], 'tokenizer_config.json'), JSON.stringify(tokenizer.tokenizerConfigJson, null, 2) + '\n');
  }

  const summary: Record<string, unknown> = {};
  for (const phase of ['base', 'sft', 'rl'] as const) {
    const c = await Checkpoint.open(written[phase]);
    try {
      const bytes = [...c.tensors.values()].reduce((a, t) => a + t.byteLength, 0);
      summary[phase] = { dir: relative(REPO, c.dir), tensors: c.tensors.size, parameters: c.parameterCount(), dtype: c.dominantDtype(), bytes, fingerprint: await c.fingerprint() };
    } finally {
      await c.close();
    }
  }
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
