/**
 * The committed demo models (npm run demo:train): the ONNX engine reproduces
 * the trainer's (jax-js) logits on them within 1e-4, images included; their
 * config is the trainer's; each freeze variant left its frozen third bitwise
 * equal to IN and changed the rest; the weights stay under 10 MB; training
 * curves sit next to the weights; the held-out probe files are exactly what
 * the seeded world writes.
 */
import { readFile, readdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDevice, init } from '@jax-js/jax';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointWeights, HookedRunner, SessionPool } from '../../src/engine/runtime/index.js';
import { readCheckpointParams } from '../../src/train/checkpoint.js';
import { hfConfig, paramShapes } from '../../src/train/config.js';
import { byteTokenizer } from '../../src/train/data.js';
import { DEMO_MODEL, PROBE_COUNTS, PROBE_SEED, RL_VARIANTS, frozenBy, probeExamples } from '../../src/train/demo.js';
import { forward } from '../../src/train/model.js';
import { enginePrompts } from '../../src/train/prompts.js';
import { writeProbeSets } from '../../src/world/index.js';

const DEMO = join(import.meta.dirname, '../../data/demo');
const PROBES = join(import.meta.dirname, '../../data/probes/world');
const MODELS = ['base', 'sft', ...RL_VARIANTS];

let pool: SessionPool;
beforeAll(async () => {
  await init('wasm');
  defaultDevice('wasm');
  pool = await SessionPool.create({ threads: 2 });
});
afterAll(async () => {
  await pool.release();
});

describe('committed demo models', () => {
  it('hold the trainer config, tokenizer files and a training record each', async () => {
    for (const model of MODELS) {
      const config = JSON.parse(await readFile(join(DEMO, model, 'config.json'), 'utf8'));
      expect(config).toEqual(JSON.parse(JSON.stringify(hfConfig(DEMO_MODEL))));
      await stat(join(DEMO, model, 'tokenizer.json'));
      const training = JSON.parse(await readFile(join(DEMO, model, 'training.json'), 'utf8'));
      expect(training.curve).toBeDefined();
      if (model.startsWith('rl')) expect(training.curve.length).toBeGreaterThan(0);
      else expect(training.curve.loss.length).toBeGreaterThan(0);
    }
  });

  it('weigh under 10 MB in all', async () => {
    let bytes = 0;
    for (const model of MODELS) for (const f of await readdir(join(DEMO, model))) bytes += (await stat(join(DEMO, model, f))).size;
    expect(bytes).toBeLessThan(10 * 1024 * 1024);
  });

  it('run in the engine with the logits of the trainer (1e-4), with and without an image', async () => {
    const examples = probeExamples();
    const picked = [examples.find((e) => e.kind === 'reasoning')!, examples.find((e) => e.kind === 'ocr')!, examples.find((e) => e.kind === 'text')!];
    const prompts = enginePrompts(picked, DEMO_MODEL, byteTokenizer());
    for (const model of ['sft', 'rl']) {
      const weights = await CheckpointWeights.open(join(DEMO, model));
      const runner = await HookedRunner.create({ weights, pool });
      const params = await readCheckpointParams(join(DEMO, model), DEMO_MODEL);
      for (const p of prompts) {
        const engine = await runner.forward([{ inputIds: p.inputIds, ...(p.pixels ? { pixels: p.pixels } : {}) }], { positions: 'all' });
        const reference = await forward(
          Object.fromEntries(Object.entries(params).map(([k, a]) => [k, a.ref])),
          [p.inputIds],
          DEMO_MODEL,
          [p.pixels ?? null],
        ).data();
        expect(engine.logits.length).toBe(reference.length);
        let diff = 0;
        let scale = 0;
        for (let i = 0; i < reference.length; i++) {
          diff = Math.max(diff, Math.abs(engine.logits[i]! - reference[i]!));
          scale = Math.max(scale, Math.abs(reference[i]!));
        }
        expect(scale).toBeGreaterThan(1);
        expect(diff).toBeLessThan(1e-4);
      }
      await weights.close();
    }
  });

  it('freeze variants keep their frozen third bitwise equal to IN and change the others', async () => {
    const sft = await readCheckpointParams(join(DEMO, 'sft'), DEMO_MODEL);
    for (const variant of RL_VARIANTS.filter((v) => v !== 'rl')) {
      const rl = await readCheckpointParams(join(DEMO, variant), DEMO_MODEL);
      const frozen = frozenBy(variant, DEMO_MODEL.numLayers);
      let changedLayers = 0;
      for (const name of paramShapes(DEMO_MODEL).keys()) {
        const a = await sft[name]!.ref.data();
        const b = await rl[name]!.ref.data();
        const same = Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
        if (frozen(name)) expect(same, `${variant}: ${name} should be frozen`).toBe(true);
        else if (!same && name.startsWith('model.layers.')) changedLayers++;
      }
      expect(changedLayers).toBeGreaterThan(0);
    }
  });
});

describe('committed probe world', () => {
  it('is exactly what the seeded world writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'world-probes-'));
    try {
      await writeProbeSets(dir, { seed: PROBE_SEED, pairsPerTask: 50, counts: PROBE_COUNTS });
      expect(await readFile(join(dir, 'probes', 'probes.jsonl'), 'utf8')).toBe(await readFile(join(PROBES, 'probes', 'probes.jsonl'), 'utf8'));
      for (const task of await readdir(join(dir, 'pairs'))) {
        expect(await readFile(join(dir, 'pairs', task, 'data.jsonl'), 'utf8')).toBe(await readFile(join(PROBES, 'pairs', task, 'data.jsonl'), 'utf8'));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
