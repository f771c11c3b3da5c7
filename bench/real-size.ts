/**
 * Real-size benchmark (prints one JSON object): Qwen2.5-3B-shaped and
 * Qwen2.5-VL-3B-shaped checkpoints with random BF16 weights in the hub layout
 * (written by bench/real-size-models.ts when missing; 6-7.5 GB each, never
 * committed). Every measurement that reports peak RSS runs in a child
 * process of its own, so one configuration's memory never shows in another's.
 *
 *   npx tsx bench/real-size.ts [--dir /tmp/real-size] [--budget-gb 2] [--tokens 256] [--skip text,resident,vl,splice]
 *
 * - `matmul`: onnxruntime's own float32 MatMul GFLOP/s on the 3B MLP shape
 *   ([tokens, 2048] x [2048, 11008]), the yardstick for prefill; and the same
 *   product with float16 weights run by onnxruntime (cast inside the graph, or
 *   all in float16) next to widening in JS then float32 MatMul, to choose by the numbers.
 * - `text`: `frankenscope run` under the budget: load, prefill tokens/s and
 *   GFLOP/s (first pass, reading and widening included), decode tokens/s, peak RSS.
 * - `resident`: the same model with every weight kept widened (budget 100 GB):
 *   prefill and decode on a second pass, once nothing is read; skipped when
 *   the machine has too little memory available.
 * - `vl`: `frankenscope run` with a 448x448 image under the budget.
 * - `splice`: IN with RL's late third (layers 24-35), first teacher-forced score
 *   zero-copy (MergedWeights) against exporting the variant and loading the export,
 *   both in a fresh process; and zero-copy after RL and IN were scored in the
 *   same process under a 13 GB budget (skipped without 16 GB available).
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { readAsFloat32 } from '../src/engine/checkpoint/dtypes.js';
import { F32, GraphBuilder } from '../src/engine/graphs/graph-builder.js';
import { exportVariant } from '../src/engine/merge/export.js';
import { MergedWeights } from '../src/engine/merge/merged-weights.js';
import { TextTokenizer } from '../src/engine/model/tokenizer.js';
import { HookedRunner } from '../src/engine/runtime/runner.js';
import { CheckpointWeights, type WeightSource } from '../src/engine/runtime/weights.js';
import { writeRealSizeModel } from './real-size-models.js';

const run = promisify(execFile);
const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/real-size' },
    'budget-gb': { type: 'string', default: '2' },
    tokens: { type: 'string', default: '256' },
    'new-tokens': { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    skip: { type: 'string', default: '' },
    child: { type: 'string' },
  },
});
const DIR = args.dir!;
const BUDGET = Number(args['budget-gb']);
const T = Number(args.tokens);
const NEW = Number(args['new-tokens']);
const THREADS = Number(args.threads);
const skip = new Set(args.skip!.split(',').filter(Boolean));
const ROOT = join(import.meta.dirname, '..');

const H = 2048;
const I = 11008;
const L = 36;
const KV = 256;
const V = 151936;
/** multiply-adds per token of the 3B decoder stack (attention projections and MLP) */
const MACS_PER_TOKEN = L * (2 * H * H + 2 * KV * H + 3 * I * H);
const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;
/** budget of the splice scored after IN and RL: IN widened (12.4 GB) and a little of RL */
const SPLICE_WARM_BUDGET_GB = 13;
/** prefill FLOPs of `t` tokens: the stack for each token, the head for the last one, attention scores and mixing */
const prefillFlops = (t: number): number => 2 * t * MACS_PER_TOKEN + 2 * V * H + L * 2 * 2 * t * t * H;

/** A prompt of at most `t` tokens of the model's tokenizer. */
async function promptOf(dir: string, t: number): Promise<string> {
  const tokenizer = await TextTokenizer.load(dir);
  const words = ['shapes', 'count', 'red', 'circle', 'square', 'left', 'right', 'above', 'how', 'many'];
  let n = t;
  let text = '';
  do {
    text = Array.from({ length: n }, (_, i) => words[(i * 7) % words.length]).join(' ');
    n = Math.floor(n * 0.9);
  } while (tokenizer.encode(text).length > t);
  return text;
}

/** Memory the kernel can hand out now, page cache included (Linux; elsewhere 0, which skips the resident run). */
function memAvailable(): number {
  try {
    const kb = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function ensureModel(name: 'text' | 'text-rl' | 'vl'): Promise<string> {
  const dir = join(DIR, name);
  if (!existsSync(join(dir, 'model.safetensors.index.json'))) {
    await writeRealSizeModel(dir, name);
  }
  return dir;
}

interface CliRun {
  promptTokenIds: number[];
  generatedTokenIds: number[];
  timings: { load: number; vision: number; prefill: number; decode: number };
  peakRssBytes: number;
}

async function cli(model: string, prompt: string, budgetGb: number, image?: string): Promise<CliRun> {
  const argv = [join(ROOT, 'bin', 'frankenscope.js'), 'run', '--model', model, '--prompt', prompt, '--max-new-tokens', String(NEW), '--json', ...(image ? ['--image', image] : [])];
  const { stdout } = await run(process.execPath, argv, {
    cwd: ROOT,
    maxBuffer: 256 << 20,
    env: { ...process.env, FRANKENSCOPE_WEIGHT_MEMORY_GB: String(budgetGb), FRANKENSCOPE_ENGINE_THREADS: String(THREADS) },
  });
  return JSON.parse(stdout) as CliRun;
}

function summary(r: CliRun) {
  const t = r.promptTokenIds.length;
  const decoded = Math.max(0, r.generatedTokenIds.length - 1);
  return {
    promptTokens: t,
    loadS: r.timings.load,
    visionS: r.timings.vision,
    prefillS: r.timings.prefill,
    prefillTokensPerS: round(t / r.timings.prefill, 2),
    prefillGflopPerS: round(prefillFlops(t) / r.timings.prefill / 1e9, 1),
    decodeTokensPerS: decoded > 0 ? round(decoded / r.timings.decode, 3) : null,
    peakRssGB: round(r.peakRssBytes / 1e9, 2),
  };
}

// ---- onnxruntime MatMul yardstick -------------------------------------------------------------

const F16 = onnxProto.onnx.TensorProto.DataType.FLOAT16;

function matmulGraph(kind: 'f32' | 'f16-weights' | 'f16-all'): Uint8Array {
  const g = new GraphBuilder('matmul');
  const x = g.input('x', ['T', H]);
  const w = g.input('w', [H, I], kind === 'f32' ? F32 : F16);
  if (kind === 'f32') g.op('MatMul', [x, w], {}, 'y');
  else if (kind === 'f16-weights') g.op('MatMul', [x, g.op('Cast', [w], { to: F32 })], {}, 'y');
  else g.op('Cast', [g.op('MatMul', [g.op('Cast', [x], { to: F16 }), w])], { to: F32 }, 'y');
  g.output('y', ['T', I]);
  return g.encode();
}

async function timeIt(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) await fn();
  return (performance.now() - t0) / 1000 / reps;
}

async function matmulBench(kinds: readonly ('f32' | 'f16-weights' | 'f16-all')[] = ['f32', 'f16-weights', 'f16-all']) {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: THREADS, interOpNumThreads: 1, extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const w32 = Float32Array.from({ length: H * I }, (_, i) => Math.sin(i) * 0.02);
  const w16 = new Uint16Array(H * I);
  const bf16 = new Uint8Array(2 * H * I);
  // float16 and bfloat16 bits of the same weights (truncated: only the timing matters)
  const bits = new Uint32Array(w32.buffer);
  const bfv = new Uint16Array(bf16.buffer);
  for (let i = 0; i < w32.length; i++) {
    bfv[i] = bits[i]! >>> 16;
    const e = ((bits[i]! >>> 23) & 255) - 127 + 15;
    w16[i] = ((bits[i]! >>> 16) & 0x8000) | (e <= 0 ? 0 : e >= 31 ? 0x7c00 : (e << 10) | ((bits[i]! >>> 13) & 0x3ff));
  }
  const out: Record<string, unknown> = { shape: `[tokens, ${H}] x [${H}, ${I}]`, threads: THREADS };
  for (const t of [T, 1]) {
    const x = Float32Array.from({ length: t * H }, (_, i) => Math.cos(i));
    const flops = 2 * t * H * I;
    const row: Record<string, unknown> = {};
    for (const kind of kinds) {
      try {
        const s = await ort.InferenceSession.create(matmulGraph(kind), options);
        const feeds = { x: new ort.Tensor('float32', x, [t, H]), w: kind === 'f32' ? new ort.Tensor('float32', w32, [H, I]) : new ort.Tensor('float16', w16, [H, I]) };
        const sec = await timeIt(() => s.run(feeds), t === 1 ? 20 : 3);
        row[kind] = { seconds: round(sec, 4), gflopPerS: round(flops / sec / 1e9, 1) };
        await s.release();
      } catch (e) {
        row[kind] = { error: (e as Error).message.split('\n')[0] };
      }
    }
    // what the engine does for a BF16 checkpoint: widen in JS once, then float32
    const widen = await timeIt(() => readAsFloat32(H * I, 'BF16', async (target, at) => target.set(bf16.subarray(at, at + target.byteLength))), 3);
    row.widenBf16InJs = { seconds: round(widen, 4) };
    out[t === 1 ? 'decode1' : `prefill${t}`] = row;
  }
  return out;
}

// ---- children: in-process measurements that report their own peak RSS ------------------------

async function residentChild(): Promise<unknown> {
  const weights = await CheckpointWeights.open(await ensureModel('text'));
  const runner = await HookedRunner.create({ weights, threads: THREADS, maxCachedBytes: Infinity });
  const ids = Array.from({ length: T }, (_, i) => 100 + ((i * 37) % 5000));
  const t0 = performance.now();
  await runner.forward([{ inputIds: ids }]);
  const firstPass = (performance.now() - t0) / 1000;
  // the yardstick in the same process and minute as the prefill it is compared with
  const yardstick = ((await matmulBench(['f32'])) as Record<string, Record<string, { gflopPerS: number }>>)[`prefill${T}`]!.f32!.gflopPerS;
  const t1 = performance.now();
  await runner.forward([{ inputIds: ids }]);
  const prefill = (performance.now() - t1) / 1000;
  // decode: one prompt token then NEW steps, all weights resident
  const t2 = performance.now();
  const g = await runner.generate([{ inputIds: ids.slice(0, 8) }], { maxNewTokens: NEW + 1, eosTokenIds: [] });
  const genS = (performance.now() - t2) / 1000;
  const t3 = performance.now();
  await runner.forward([{ inputIds: ids.slice(0, 8) }]);
  const short = (performance.now() - t3) / 1000;
  await runner.release();
  await weights.close();
  return {
    promptTokens: T,
    firstPassS: round(firstPass),
    prefillS: round(prefill),
    prefillTokensPerS: round(T / prefill, 2),
    prefillGflopPerS: round(prefillFlops(T) / prefill / 1e9, 1),
    ortMatmulF32GflopPerS: yardstick,
    prefillShareOfMatmul: round(prefillFlops(T) / prefill / 1e9 / yardstick, 2),
    decodeTokensPerS: round((g.tokens[0]!.length - 1) / Math.max(1e-9, genS - short), 3),
    peakRssGB: round((process.resourceUsage().maxRSS * 1024) / 1e9, 2),
  };
}

/** One teacher-forced score, timing the runner's creation (sessions) apart from the pass (reading, widening, compute). */
async function scoreOnce(weights: WeightSource): Promise<{ logProb: number; sessionsS: number; passS: number }> {
  const t0 = performance.now();
  const runner = await HookedRunner.create({ weights, threads: THREADS });
  const sessionsS = round((performance.now() - t0) / 1000, 2);
  try {
    const ids = Array.from({ length: 32 }, (_, i) => 100 + i * 11);
    const t1 = performance.now();
    const r = await runner.score([{ inputIds: ids, answerIds: [7, 8, 9, 10] }]);
    return { logProb: r.logProb[0]!, sessionsS, passS: round((performance.now() - t1) / 1000, 2) };
  } finally {
    await runner.release();
  }
}

async function spliceChild(mode: 'zero-copy' | 'export'): Promise<unknown> {
  const a = await ensureModel('text');
  const b = await ensureModel('text-rl');
  const recipe = { base: 'in', donors: ['rl'], operations: [{ op: 'splice' as const, model: 'rl', layers: { from: 24, to: 36 } }] };
  const t0 = performance.now();
  const merged = await MergedWeights.open(recipe, { in: a, rl: b });
  const openS = round((performance.now() - t0) / 1000, 2);
  let score: Awaited<ReturnType<typeof scoreOnce>>;
  let exportS: number | undefined;
  if (mode === 'zero-copy') {
    score = await scoreOnce(merged);
  } else {
    const target = join(DIR, 'splice-export');
    await rm(target, { recursive: true, force: true });
    await exportVariant(merged, target, { dtype: 'BF16', copyFrom: a, roots: [DIR] });
    exportS = (performance.now() - t0) / 1000;
    const exported = await CheckpointWeights.open(target);
    score = await scoreOnce(exported);
    await exported.close();
    await rm(target, { recursive: true, force: true });
  }
  await merged.close();
  return { seconds: round((performance.now() - t0) / 1000, 2), openS, ...(exportS !== undefined ? { exportS: round(exportS, 2) } : {}), ...score, peakRssGB: round((process.resourceUsage().maxRSS * 1024) / 1e9, 2) };
}

/**
 * The splice's first score where it is scored in practice, after IN and RL
 * (transferability, necessity): RL then IN scored first under one budget
 * with room for IN and part of RL, the runners kept open, so the splice reads
 * only the layers neither left widened (layers are shared by stored bytes).
 */
async function spliceAfterParentsChild(): Promise<unknown> {
  const [a, b] = [await CheckpointWeights.open(await ensureModel('text')), await CheckpointWeights.open(await ensureModel('text-rl'))];
  const recipe = { base: 'in', donors: ['rl'], operations: [{ op: 'splice' as const, model: 'rl', layers: { from: 24, to: 36 } }] };
  const parents = [await HookedRunner.create({ weights: b, threads: THREADS }), await HookedRunner.create({ weights: a, threads: THREADS })];
  const ids = Array.from({ length: 32 }, (_, i) => 100 + i * 11);
  const t0 = performance.now();
  for (const r of parents) await r.score([{ inputIds: ids, answerIds: [7, 8, 9, 10] }]);
  const parentsS = round((performance.now() - t0) / 1000, 2);
  const t1 = performance.now();
  const score = await scoreOnce(await MergedWeights.create({ recipe, models: { in: a, rl: b } }));
  const seconds = round((performance.now() - t1) / 1000, 2);
  for (const r of parents) await r.release();
  await a.close();
  await b.close();
  return { parentsS, seconds, ...score, peakRssGB: round((process.resourceUsage().maxRSS * 1024) / 1e9, 2) };
}

async function child(mode: string, budgetGb: number): Promise<unknown> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'bench', 'real-size.ts'), '--child', mode, '--dir', DIR, '--tokens', String(T), '--new-tokens', String(NEW), '--threads', String(THREADS)], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
    // the malloc setting bin/frankenscope.js gives every process it starts
    env: { ...process.env, FRANKENSCOPE_WEIGHT_MEMORY_GB: String(budgetGb), MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? String(1 << 20) },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  if (args.child) {
    const result = args.child === 'resident' ? await residentChild() : args.child === 'after-parents' ? await spliceAfterParentsChild() : await spliceChild(args.child as 'zero-copy' | 'export');
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const out: Record<string, unknown> = { budgetGB: BUDGET, threads: THREADS, cpus: (await import('node:os')).cpus()[0]?.model };
  out.matmul = await matmulBench();
  const text = await ensureModel('text');
  if (!skip.has('text')) out.text = summary(await cli(text, await promptOf(text, T), BUDGET));
  if (!skip.has('resident')) {
    // the widened 3B is ~12.5 GB: leave room for the rest of the machine
    const available = memAvailable();
    out.resident = available > 16e9 ? await child('resident', 100) : { skipped: `only ${round(available / 1e9, 1)} GB available; 16 GB needed` };
  }
  if (!skip.has('vl')) {
    const vl = await ensureModel('vl');
    const image = join(DIR, 'image-448.png');
    if (!existsSync(image)) {
      const sharp = (await import('sharp')).default;
      const px = Buffer.alloc(448 * 448 * 3, 0).map((_, i) => (i * 2654435761) >>> 24);
      await sharp(px, { raw: { width: 448, height: 448, channels: 3 } }).png().toFile(image);
    }
    out.vl = summary(await cli(vl, '<image>How many shapes are there?', BUDGET, image));
  }
  if (!skip.has('splice')) {
    // the first score of a new variant: neither model has been read by this process
    await ensureModel('text-rl');
    const zero = (await child('zero-copy', BUDGET)) as { seconds: number; logProb: number };
    const exported = (await child('export', BUDGET)) as { seconds: number; logProb: number };
    const available = memAvailable();
    const warm = available > 16e9 ? ((await child('after-parents', SPLICE_WARM_BUDGET_GB)) as { seconds: number; logProb: number }) : { skipped: `only ${round(available / 1e9, 1)} GB available; 16 GB needed` };
    out.splice = {
      zeroCopy: zero,
      exportThenLoad: exported,
      ratio: round(zero.seconds / exported.seconds, 3),
      sameScore: zero.logProb === exported.logProb,
      afterParents: warm,
      ...('seconds' in warm ? { ratioAfterParents: round(warm.seconds / exported.seconds, 3), sameScoreAfterParents: warm.logProb === zero.logProb } : {}),
    };
  }
  process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
}

await main();
