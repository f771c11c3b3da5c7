/**
 * `npm run demo:train`: trains the demo trio from scratch, seeded —
 * Base (pretraining on perception: short answers and scene descriptions),
 * IN (supervised fine-tuning on worked solutions) and RL (GRPO from IN with
 * exact-match rewards), plus RL with each third of the decoder frozen —
 * writes BF16 checkpoints with their training curves, the held-out probe
 * sets, and an accuracy table with 95% intervals (docs/demo-training.md).
 *
 * The RL runs are separate processes, two at a time (jax-js is
 * single-threaded): `--rl <variant>` runs one of them.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDevice, init } from '@jax-js/jax';
import { Command } from 'commander';
import { tinyTokenizerFiles } from '../src/engine/fixtures/index.js';
import { TextTokenizer } from '../src/engine/model/tokenizer.js';
import { CheckpointWeights, HookedRunner, MemoryWeights, SessionPool } from '../src/engine/runtime/index.js';
import { bootstrapPairedDifference, transitionStats } from '../src/engine/scoring/index.js';
import { DEFAULT_MAX_NEW_TOKENS } from '../src/services/analysis-options.js';
import { exportParams, readCheckpointParams, writeCheckpoint } from '../src/train/checkpoint.js';
import { buildSequences, byteTokenizer, makeBatches, modelConfigOf, toBatch, type PlainBatch, type Sequence } from '../src/train/data.js';
import { GradientHelper } from '../src/train/gradient-helper.js';
import {
  DEMO_EOS, DEMO_MODEL, DEMO_SUPPRESSED, PRETRAIN_KINDS, PROBE_COUNTS, PROBE_SEED, RL_VARIANTS, SOLUTION_KINDS, TRAIN_SEED,
  frozenBy, heldOutTraining, probeExamples, questionKey, type RlVariant,
} from '../src/train/demo.js';
import { greedyAccuracy, type Evaluation } from '../src/train/evaluate.js';
import { grpo, type RlPoint } from '../src/train/grpo.js';
import { trainPhase, type CurvePoint } from '../src/train/loop.js';
import { disposeParams, initParams, type Batch, type Params } from '../src/train/model.js';
import { enginePrompts, type EnginePrompt } from '../src/train/prompts.js';
import { writeProbeSets, type WorldExample } from '../src/world/index.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Phase budgets at scale 1 (measured: see docs/demo-training.md). */
const BUDGET = {
  pretrain: { steps: 1100, seconds: 18 * 60, lr: 2e-3, checkpoints: 4 },
  sft: { steps: 350, seconds: 8 * 60, lr: 1e-3, checkpoints: 2 },
  // 112 new tokens: the longest worked solution is ~105 tokens, and a truncated one earns no reward.
  // lr 1e-4: Adam's first steps move every weight by ~lr, and 5e-4 collapsed the sampled reward within 5 iterations
  // 7.5 min per RL run, two at a time: the guards sum to 18 + 8 + 2 x 7.5 = 41 min, which keeps the whole
  // script (with setup and the final evaluation) under 45 min even on a slow machine where every guard binds
  rl: { iterations: 50, seconds: 7.5 * 60, lr: 1e-4, beta: 0.02, prompts: 8, groupSize: 8, temperature: 1, maxNewTokens: 112 },
};
const BATCH = 16;
const BUCKETS = [64, 96, 128, 192];
// image prompts are about 110 tokens and completions up to 112: few traced shapes, steady memory
const RL_BUCKETS = [160, 192, 224];
// IN and RL answer every question in the worked-solution format, so perception questions get the same budget
// (the API's default, DEFAULT_MAX_NEW_TOKENS: the analyses see the answers the table scores)
const GENERATE_TOKENS = { perception: DEFAULT_MAX_NEW_TOKENS, solution: DEFAULT_MAX_NEW_TOKENS };

interface Options {
  out: string;
  probes: string;
  scale: number;
  rl?: RlVariant;
  skipRl: boolean;
  rlOnly: boolean;
  evaluateOnly: boolean;
}

const tokenizerFiles = tinyTokenizerFiles(false);
const encoder = byteTokenizer();
let textTokenizer: TextTokenizer;
const decode = (ids: readonly number[]): string => (ids.length === 0 ? '' : textTokenizer.decode(ids, { skipSpecialTokens: true }));

function log(message: string): void {
  console.log(`[demo:train ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** An endless, seeded stream of plain batches over `sequences` (a new shuffle per pass). */
function plainStream(sequences: readonly Sequence[], seed: number): () => PlainBatch {
  let pass = 0;
  let current = makeBatches(sequences, { batchSize: BATCH, buckets: BUCKETS, seed, padId: DEMO_EOS }).batches;
  let index = 0;
  return () => {
    if (index >= current.length) {
      pass++;
      current = makeBatches(sequences, { batchSize: BATCH, buckets: BUCKETS, seed: seed + pass, padId: DEMO_EOS }).batches;
      index = 0;
    }
    return current[index++]!;
  };
}

/**
 * The two data-parallel streams of a phase: the sequences split in halves,
 * one per core; `local` yields jax-js batches for this thread and survives
 * `for…of` breaks (no return()), `remote` plain batches for the gradient worker.
 */
function phaseStreams(examples: readonly WorldExample[], format: 'perception' | 'sft', seed: number) {
  const all = buildSequences(examples, DEMO_MODEL, { format, tokenizer: encoder, eosTokenId: DEMO_EOS });
  const dropped = all.filter((x) => x.ids.length > BUCKETS.at(-1)!).length;
  const nextLocal = plainStream(all.filter((_, i) => i % 2 === 0), seed);
  const remote = plainStream(all.filter((_, i) => i % 2 === 1), seed + 7919);
  const iterator: Iterator<Batch> = { next: () => ({ value: toBatch(nextLocal(), DEMO_MODEL), done: false }) };
  return { local: { [Symbol.iterator]: () => iterator } as Iterable<Batch>, remote, rows: all.length, dropped };
}

/** Warm-up then cosine decay to a tenth. */
function schedule(peak: number, total: number): (step: number) => number {
  const warmup = Math.min(100, Math.floor(total / 10));
  return (step) => (step <= warmup ? (peak * step) / warmup : peak * (0.1 + 0.45 * (1 + Math.cos((Math.PI * Math.min(1, (step - warmup) / Math.max(1, total - warmup)))))));
}

async function evaluateParams(params: Params, pool: SessionPool, prompts: readonly EnginePrompt[], maxNewTokens: number): Promise<Evaluation> {
  const runner = await HookedRunner.create({ weights: new MemoryWeights(modelConfigOf(DEMO_MODEL), await exportParams(params)), pool });
  return greedyAccuracy(runner, prompts, { maxNewTokens, eosTokenId: DEMO_EOS, decode, suppressTokenIds: DEMO_SUPPRESSED });
}

interface SupervisedCurve {
  loss: CurvePoint[];
  accuracy: { step: number; seconds: number; byKind: Record<string, number> }[];
  stopped: string[];
}

/** A supervised phase in chunks, with greedy dev accuracy after each chunk. */
async function supervised(
  name: string,
  params: Params,
  streams: ReturnType<typeof phaseStreams>,
  helper: GradientHelper,
  budget: { steps: number; seconds: number; lr: number; checkpoints: number },
  dev: readonly EnginePrompt[],
  devTokens: number,
  pool: SessionPool,
): Promise<{ params: Params; curve: SupervisedCurve }> {
  const curve: SupervisedCurve = { loss: [], accuracy: [], stopped: [] };
  const t0 = performance.now();
  const evaluate = async (p: Params, step: number): Promise<void> => {
    const evaluation = await evaluateParams(p, pool, dev, devTokens);
    const byKind = Object.fromEntries(Object.entries(evaluation.byKind).map(([k, v]) => [k, v.accuracy]));
    curve.accuracy.push({ step, seconds: (performance.now() - t0) / 1000, byKind });
    log(`${name} step ${step}: dev accuracy ${JSON.stringify(byKind)}`);
  };
  // one phase, so each batch shape is traced once; the dev evaluation runs in between
  const result = await trainPhase({
    params, config: DEMO_MODEL, lr: schedule(budget.lr, budget.steps), maxSteps: budget.steps, maxSeconds: budget.seconds,
    batches: () => streams.local, disposeBatches: true, parallel: { helper, nextBatch: streams.remote },
    checkpointEvery: Math.ceil(budget.steps / budget.checkpoints), onCheckpoint: evaluate,
    onStep: (p) => {
      curve.loss.push(p);
      if (p.step % 50 === 0) log(`${name} step ${p.step} loss ${p.loss.toFixed(3)} (${p.seconds.toFixed(0)} s)`);
    },
  });
  params = result.params;
  curve.stopped.push(result.stopped);
  await evaluate(params, result.curve.length);
  return { params, curve };
}

async function saveModel(dir: string, params: Params, training: object): Promise<Params> {
  await rm(dir, { recursive: true, force: true });
  await writeCheckpoint(dir, params, DEMO_MODEL, tokenizerFiles, 'BF16');
  await writeFile(join(dir, 'training.json'), `${JSON.stringify(training, null, 1)}\n`);
  disposeParams(params);
  // the next phase starts from exactly the stored (BF16-rounded) weights
  return readCheckpointParams(dir, DEMO_MODEL);
}

function devPrompts(kinds: readonly string[], perKind: number): EnginePrompt[] {
  const examples = heldOutTraining(TRAIN_SEED + 1, perKind * kinds.length, kinds as never, new Set(probeExamples().map(questionKey)));
  return enginePrompts(examples, DEMO_MODEL, encoder);
}

async function runRl(variant: RlVariant, o: Options): Promise<void> {
  const pool = await SessionPool.create({ threads: 1 });
  const sftDir = join(o.out, 'sft');
  const params = await readCheckpointParams(sftDir, DEMO_MODEL);
  const exclude = new Set(probeExamples().map(questionKey));
  const pool0 = heldOutTraining(TRAIN_SEED + 2, 6000, SOLUTION_KINDS, exclude);
  const vision = enginePrompts(pool0.filter((e) => e.scene !== null), DEMO_MODEL, encoder);
  const dev = devPrompts(SOLUTION_KINDS, 64);
  const b = BUDGET.rl;
  const P = b.prompts;
  const accuracy: { iteration: number; byKind: Record<string, number> }[] = [];
  let policy: Params | null = null;
  const reference = await CheckpointWeights.open(sftDir);
  const started = performance.now();
  const result = await grpo({
    params, config: DEMO_MODEL, groupSize: b.groupSize, temperature: b.temperature, maxNewTokens: b.maxNewTokens,
    lr: b.lr, beta: b.beta, reference, buckets: RL_BUCKETS, microBatch: 16, informativeOnly: true,
    maxIterations: Math.max(1, Math.round(b.iterations * o.scale)), maxSeconds: b.seconds * o.scale,
    frozen: frozenBy(variant, DEMO_MODEL.numLayers), seed: TRAIN_SEED, eosTokenId: DEMO_EOS, suppressTokenIds: DEMO_SUPPRESSED, decode, pool,
    // image reasoning only: the text questions (two-digit arithmetic) almost never get a reward spread at this
    // size, so their iterations carried no gradient; every variant sees the same prompts
    prompts: (i) => Array.from({ length: P }, (_, j) => vision[((i - 1) * P + j) % vision.length]!),
    onIteration: (p: RlPoint) =>
      log(`${variant} iteration ${p.iteration} reward ${p.reward.toFixed(3)} informative ${p.informativeGroups.toFixed(2)} tokens ${p.meanCompletionTokens.toFixed(1)} ` +
        `rows ${p.gradientRows} rollout ${p.rolloutSeconds.toFixed(1)} s update ${p.updateSeconds.toFixed(1)} s (${p.seconds.toFixed(0)} s)`),
  });
  await reference.close();
  policy = result.params;
  const final = await evaluateParams(policy, pool, dev, GENERATE_TOKENS.solution);
  accuracy.push({ iteration: result.curve.length, byKind: Object.fromEntries(Object.entries(final.byKind).map(([k, v]) => [k, v.accuracy])) });
  log(`${variant}: dev accuracy ${JSON.stringify(accuracy.at(-1)!.byKind)}`);
  const training = {
    phase: 'rl', variant, from: 'sft', frozen: variant === 'rl' ? [] : [variant.slice('rl-freeze-'.length)],
    settings: { ...b, iterations: Math.max(1, Math.round(b.iterations * o.scale)), seconds: b.seconds * o.scale, seed: TRAIN_SEED, buckets: RL_BUCKETS },
    stopped: result.stopped, seconds: (performance.now() - started) / 1000, curve: result.curve, devAccuracy: accuracy,
  };
  disposeParams(await saveModel(join(o.out, variant), policy, training));
  await pool.release();
}

function runChild(variant: RlVariant, o: Options): Promise<void> {
  return new Promise((ok, fail) => {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--out', o.out, '--probes', o.probes, '--scale', String(o.scale), '--rl', variant];
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`RL run '${variant}' exited with code ${code}`))));
  });
}

interface Paired {
  n: number;
  delta: number;
  low: number;
  high: number;
  /** IN right, the model wrong */
  nTF: number;
  /** IN wrong, the model right */
  nFT: number;
  mcnemarP: number;
}

/** Every other model against IN on the same worked-solution questions, per kind. */
function pairedVersusIn(outcomes: Record<string, boolean[]>, prompts: readonly EnginePrompt[]): Record<string, Record<string, Paired>> {
  const reference = outcomes.sft;
  if (!reference) return {};
  const out: Record<string, Record<string, Paired>> = {};
  for (const [model, own] of Object.entries(outcomes)) {
    if (model === 'sft') continue;
    out[model] = {};
    for (const kind of [...new Set(prompts.map((p) => p.kind))].sort()) {
      const idx = prompts.map((p, i) => (p.kind === kind ? i : -1)).filter((i) => i >= 0);
      const a = idx.map((i) => reference[i]!);
      const b = idx.map((i) => own[i]!);
      const stats = transitionStats(a, b);
      const ci = bootstrapPairedDifference(b, a, { seed: 0 });
      out[model][kind] = { n: idx.length, delta: stats.netGain / stats.n, low: ci.low ?? 0, high: ci.high ?? 0, nTF: stats.nTF, nFT: stats.nFT, mcnemarP: stats.mcnemarP };
    }
  }
  return out;
}

async function finalEvaluation(o: Options, models: readonly string[]): Promise<void> {
  const pool = await SessionPool.create({ threads: 2 });
  const examples = probeExamples();
  const perception = enginePrompts(examples.filter((e) => e.solution === null), DEMO_MODEL, encoder);
  const solutions = enginePrompts(examples.filter((e) => e.solution !== null), DEMO_MODEL, encoder);
  const table: Record<string, Record<string, unknown>> = {};
  const outcomes: Record<string, boolean[]> = {};
  for (const model of models) {
    // a partial directory (e.g. one RL variant re-run to check reproducibility) scores what it has
    if (!existsSync(join(o.out, model, 'config.json'))) continue;
    const weights = await CheckpointWeights.open(join(o.out, model));
    const runner = await HookedRunner.create({ weights, pool });
    const p = await greedyAccuracy(runner, perception, { maxNewTokens: GENERATE_TOKENS.perception, eosTokenId: DEMO_EOS, decode, suppressTokenIds: DEMO_SUPPRESSED });
    const s = await greedyAccuracy(runner, solutions, { maxNewTokens: GENERATE_TOKENS.solution, eosTokenId: DEMO_EOS, decode, suppressTokenIds: DEMO_SUPPRESSED });
    await weights.close();
    table[model] = { ...p.byKind, ...s.byKind };
    outcomes[model] = s.outcomes;
    const fmt = (k: string): string => {
      const a = (table[model]![k] as { accuracy: number; low: number; high: number });
      return `${k} ${(100 * a.accuracy).toFixed(1)} [${(100 * a.low).toFixed(1)}, ${(100 * a.high).toFixed(1)}]`;
    };
    log(`${model}: ${Object.keys(table[model]!).map(fmt).join(' · ')}`);
  }
  const versusIn = pairedVersusIn(outcomes, solutions);
  for (const [model, byKind] of Object.entries(versusIn)) {
    for (const [kind, v] of Object.entries(byKind)) {
      log(`${model} vs IN on ${kind}: ${(100 * v.delta).toFixed(1)} points [${(100 * v.low).toFixed(1)}, ${(100 * v.high).toFixed(1)}], right where IN was wrong ${v.nFT}, the reverse ${v.nTF}, McNemar p ${v.mcnemarP.toPrecision(2)}`);
    }
  }
  const note = 'greedy answers on the held-out probe world (data/probes/world/probes); 95% percentile bootstrap intervals; versusIn: accuracy minus IN\'s on the same questions with a paired bootstrap interval and McNemar exact p';
  await writeFile(join(o.out, 'accuracy.json'), `${JSON.stringify({ probeSeed: PROBE_SEED, counts: PROBE_COUNTS, maxNewTokens: GENERATE_TOKENS, note, models: table, versusIn }, null, 1)}\n`);
  await pool.release();
}

async function main(): Promise<void> {
  const program = new Command()
    .option('--out <dir>', 'where the checkpoints go', join(ROOT, 'data/demo'))
    .option('--probes <dir>', 'where the held-out probe sets go', join(ROOT, 'data/probes/world'))
    .option('--scale <factor>', 'multiplies every step budget (0.02 for a smoke run)', Number, 1)
    .option('--rl <variant>', `run one RL variant (${RL_VARIANTS.join(', ')}) from <out>/sft`)
    .option('--skip-rl', 'stop after Base and IN', false)
    .option('--rl-only', 'train only the four RL variants from <out>/sft, then evaluate', false)
    .option('--evaluate-only', 'only score the models under <out> on the held-out probes (accuracy.json)', false)
    .parse();
  const o = program.opts<Options>();
  o.out = resolve(o.out);
  o.probes = resolve(o.probes);
  if (!(o.scale > 0)) throw new RangeError(`--scale must be positive, got ${o.scale}`);
  await init('wasm');
  defaultDevice('wasm');
  const dir = join(o.out, '.tokenizer');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerFiles.tokenizerJson));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerFiles.tokenizerConfigJson));
  textTokenizer = await TextTokenizer.load(dir);
  if (o.rl !== undefined) {
    if (!(RL_VARIANTS as readonly string[]).includes(o.rl)) throw new RangeError(`--rl must be one of ${RL_VARIANTS.join(', ')}, got ${o.rl}`);
    return runRl(o.rl, o);
  }
  if (o.evaluateOnly) {
    await finalEvaluation(o, ['base', 'sft', ...RL_VARIANTS]);
    await rm(dir, { recursive: true, force: true });
    return;
  }
  const t0 = performance.now();
  if (o.rlOnly) {
    if (!existsSync(join(o.out, 'sft', 'config.json'))) throw new Error(`--rl-only trains from ${join(o.out, 'sft')}, which holds no checkpoint`);
    return trainRlAndEvaluate(o, dir, t0);
  }
  const written = await writeProbeSets(o.probes, { seed: PROBE_SEED, pairsPerTask: 50, counts: PROBE_COUNTS, overwrite: true });
  log(`probe sets: ${written.pairs} pairs, ${written.probes} probes, ${written.images} images under ${o.probes}`);
  const exclude = new Set(probeExamples().map(questionKey));
  const pool = await SessionPool.create({ threads: 1 });

  const pretrainData = heldOutTraining(TRAIN_SEED, 30000, PRETRAIN_KINDS, exclude);
  const pre = phaseStreams(pretrainData, 'perception', TRAIN_SEED);
  const helper = await GradientHelper.start(DEMO_MODEL);
  log(`pretraining data: ${pre.rows} sequences (${pre.dropped} longer than ${BUCKETS.at(-1)} dropped)`);
  const scaled = <T extends { steps: number; seconds: number }>(b: T): T => ({ ...b, steps: Math.max(1, Math.round(b.steps * o.scale)), seconds: b.seconds * o.scale });
  let params = initParams(DEMO_MODEL, TRAIN_SEED);
  const base = await supervised('base', params, pre, helper, scaled(BUDGET.pretrain), devPrompts(PRETRAIN_KINDS, 24), GENERATE_TOKENS.solution, pool);
  params = await saveModel(join(o.out, 'base'), base.params, { phase: 'pretrain', from: 'init', settings: { ...scaled(BUDGET.pretrain), batch: `${BATCH} per core x 2 cores`, buckets: BUCKETS, seed: TRAIN_SEED }, data: { sequences: pre.rows, dropped: pre.dropped }, curve: base.curve });

  const sftData = heldOutTraining(TRAIN_SEED + 3, 12000, SOLUTION_KINDS, exclude);
  const sft = phaseStreams(sftData, 'sft', TRAIN_SEED + 3);
  log(`SFT data: ${sft.rows} sequences (${sft.dropped} dropped)`);
  const tuned = await supervised('sft', params, sft, helper, scaled(BUDGET.sft), devPrompts(SOLUTION_KINDS, 64), GENERATE_TOKENS.solution, pool);
  disposeParams(await saveModel(join(o.out, 'sft'), tuned.params, { phase: 'sft', from: 'base', settings: { ...scaled(BUDGET.sft), batch: `${BATCH} per core x 2 cores`, buckets: BUCKETS, seed: TRAIN_SEED + 3 }, data: { sequences: sft.rows, dropped: sft.dropped }, curve: tuned.curve }));
  await pool.release();
  await helper.close();
  log(`Base and IN done in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  if (o.skipRl) return;
  await trainRlAndEvaluate(o, dir, t0);
}

async function trainRlAndEvaluate(o: Options, tokenizerDir: string, t0: number): Promise<void> {
  // two RL runs at a time: one per core
  await Promise.all([runChild('rl', o).then(() => runChild('rl-freeze-middle', o)), runChild('rl-freeze-early', o).then(() => runChild('rl-freeze-late', o))]);
  log(`all training done in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
  await finalEvaluation(o, ['base', 'sft', ...RL_VARIANTS]);
  await rm(tokenizerDir, { recursive: true, force: true });
  log(`finished in ${((performance.now() - t0) / 60000).toFixed(1)} min`);
}

await main();
