/**
 * Engine benchmark (prints JSON): hooked layer-by-layer execution next to one
 * whole-model ONNX session, weights fed as inputs next to weights bound as
 * initializers, and a zero-ablation sweep with prefix reuse next to the naive
 * sweep. Model: random weights, 12 layers, hidden 256 (held in memory).
 *
 *   npx tsx bench/engine.ts [--layers 12] [--hidden 256] [--batch 4] [--tokens 128] [--threads 2]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { generateTinyModel } from '../src/engine/fixtures/tiny-model.js';
import { attentionCore, attentionInput, lmHead, mlp, type WeightBinder } from '../src/engine/graphs/blocks.js';
import { GraphBuilder, I64 } from '../src/engine/graphs/graph-builder.js';
import { attentionMask, inverseFrequencies, prepareBatch, ropeTables } from '../src/engine/runtime/batch.js';
import { zeroAblation } from '../src/engine/runtime/interventions.js';
import { SessionPool } from '../src/engine/runtime/ort-sessions.js';
import { HookedRunner } from '../src/engine/runtime/runner.js';
import { addF32, type F32Tensor, type Tensor } from '../src/engine/runtime/tensor.js';
import { MemoryWeights } from '../src/engine/runtime/weights.js';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '12' },
    hidden: { type: 'string', default: '256' },
    batch: { type: 'string', default: '4' },
    tokens: { type: 'string', default: '128' },
    threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
  },
});
const L = Number(args.layers);
const H = Number(args.hidden);
const B = Number(args.batch);
const T = Number(args.tokens);
const threads = Number(args.threads);

const model = generateTinyModel({ seed: 7, textOnly: true, numLayers: L, hidden: H, intermediate: Math.round((H * 11) / 4), numHeads: H / 64, numKvHeads: Math.max(1, H / 128) });
const c = model.modelConfig;
const tensors = new Map([...model.tensors].map(([k, t]) => [k, t.data]));
const get = (name: string) => tensors.get(name)!;
const rand = (() => {
  let s = 12345;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
})();
const inputs = Array.from({ length: B }, () => ({ inputIds: Array.from({ length: T }, () => 3 + Math.floor(rand() * (c.vocabSize - 3))) }));

async function time(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn(); // warm-up (session creation, weight reads)
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) await fn();
  return (performance.now() - t0) / repeats / 1000;
}

const attnShape = { hidden: H, heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim, eps: c.rmsNormEps, qkvBias: true, outBias: false };
const mlpShape = { hidden: H, intermediate: c.intermediateSize, eps: c.rmsNormEps, bias: false };
const layerRoles: Record<string, string> = {
  ln: 'input_layernorm.weight', wq: 'self_attn.q_proj.weight', bq: 'self_attn.q_proj.bias', wk: 'self_attn.k_proj.weight',
  bk: 'self_attn.k_proj.bias', wv: 'self_attn.v_proj.weight', bv: 'self_attn.v_proj.bias', wo: 'self_attn.o_proj.weight',
};
const mlpRoles: Record<string, string> = { ln: 'post_attention_layernorm.weight', wg: 'mlp.gate_proj.weight', wu: 'mlp.up_proj.weight', wd: 'mlp.down_proj.weight' };
const bind = (g: GraphBuilder, prefix: string, roles: Record<string, string>): WeightBinder => (role, dims) => g.initializer(`${prefix}${roles[role]}`, dims, get(`${prefix}${roles[role]}`));

/** The whole language model as one graph with every weight an initializer. */
function wholeModelGraph(): Uint8Array {
  const g = new GraphBuilder('whole_lm');
  const ids = g.input('ids', ['B', 'T'], I64);
  const cos = g.input('cos', ['B', 1, 'T', c.headDim]);
  const sin = g.input('sin', ['B', 1, 'T', c.headDim]);
  const mask = g.input('mask', ['B', 1, 'T', 'T']);
  let x = g.op('Gather', [g.initializer('embed', [c.vocabSize, H], get('model.embed_tokens.weight')), ids], { axis: 0 });
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    const { q, k, v } = attentionInput(g, x, cos, sin, bind(g, p, layerRoles), attnShape);
    const h = g.op('Add', [x, attentionCore(g, q, k, v, mask, bind(g, p, layerRoles), attnShape).out]);
    x = g.op('Add', [h, mlp(g, h, bind(g, p, mlpRoles), mlpShape)]);
  }
  const headW: WeightBinder = (role, dims) => g.initializer(`head.${role}`, dims, role === 'norm' ? get('model.norm.weight') : get('lm_head.weight'));
  lmHead(g, x, headW, { hidden: H, vocab: c.vocabSize, eps: c.rmsNormEps }, 'logits');
  g.output('logits', ['B', 'T', c.vocabSize]);
  return g.encode();
}

/** One decoder layer's three pieces with the layer's weights bound as initializers. */
function boundLayerGraphs(l: number): Uint8Array[] {
  const p = `model.layers.${l}.`;
  const a = new GraphBuilder('attention_input_bound');
  attentionInput(a, a.input('x', ['B', 'T', H]), a.input('cos', ['B', 1, 'T', c.headDim]), a.input('sin', ['B', 1, 'T', c.headDim]), bind(a, p, layerRoles), attnShape, { q: 'q', k: 'k', v: 'v' });
  for (const n of ['q', 'k', 'v']) a.output(n, ['B', n === 'q' ? c.numHeads : c.numKvHeads, 'T', c.headDim]);
  const co = new GraphBuilder('attention_core_bound');
  attentionCore(co, co.input('q', ['B', c.numHeads, 'T', c.headDim]), co.input('k', ['B', c.numKvHeads, 'S', c.headDim]), co.input('v', ['B', c.numKvHeads, 'S', c.headDim]), co.input('mask', ['B', 1, 'T', 'S']), bind(co, p, layerRoles), attnShape, { out: 'attn_out' });
  co.output('attn_out', ['B', 'T', H]);
  const m = new GraphBuilder('mlp_bound');
  mlp(m, m.input('h', ['B', 'T', H]), bind(m, p, mlpRoles), mlpShape, 'mlp_out');
  m.output('mlp_out', ['B', 'T', H]);
  return [a.encode(), co.encode(), m.encode()];
}

const pool = await SessionPool.create({ threads });
const runner = await HookedRunner.create({ weights: new MemoryWeights(c, tensors), pool });
const batch = prepareBatch(c, inputs);
const { cos, sin } = ropeTables(batch.layout, inverseFrequencies(c.ropeTheta, c.headDim), 0, T);
const mask = attentionMask(batch.layout, 0, T);
const tokens = B * T;

// 1. hooked layer-by-layer vs one whole-model session
const hookedS = await time(() => runner.forward(inputs, { positions: 'all' }), 5);
const whole = await pool.get('bench:whole', wholeModelGraph);
const idTensor: Tensor = { data: BigInt64Array.from(batch.ids.flat().map(BigInt)), dims: [B, T] };
const wholeS = await time(() => whole.run({ ids: idTensor, cos, sin, mask }), 5);

// 2. weights as inputs (shared sessions) vs bound per layer (initializers), same JS glue, no hooks
const x0: F32Tensor = { data: new Float32Array(B * T * H).map(() => rand() - 0.5), dims: [B, T, H] };
const shared = await Promise.all([
  pool.get(`attention_input:${JSON.stringify(attnShape)}`, () => { throw new Error('expected the runner to have built it'); }),
  pool.get(`attention_core:${JSON.stringify(attnShape)}`, () => { throw new Error('expected the runner to have built it'); }),
  pool.get(`mlp:${JSON.stringify(mlpShape)}`, () => { throw new Error('expected the runner to have built it'); }),
]);
const layerFeeds = (l: number) => {
  const p = `model.layers.${l}.`;
  const f = (roles: Record<string, string>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, { data: get(p + roles[k]!), dims: dimsOf(p + roles[k]!) }]));
  return [f(layerRoles, ['ln', 'wq', 'bq', 'wk', 'bk', 'wv', 'bv']), f(layerRoles, ['wo']), f(mlpRoles, ['ln', 'wg', 'wu', 'wd'])];
};
const dimsOf = (name: string) => model.tensors.get(name)!.shape;
const feeds = Array.from({ length: L }, (_, l) => layerFeeds(l));
const t0 = performance.now();
const bound: Awaited<ReturnType<typeof pool.get>>[][] = [];
for (let l = 0; l < L; l++) bound.push(await Promise.all(boundLayerGraphs(l).map((bytes, i) => pool.get(`bench:bound:${l}:${i}`, () => bytes))));
const boundBuildS = (performance.now() - t0) / 1000;
async function loop(useBound: boolean): Promise<void> {
  let x = x0;
  for (let l = 0; l < L; l++) {
    const [a, co, m] = useBound ? bound[l]! : shared;
    const w = useBound ? [{}, {}, {}] : feeds[l]!;
    const qkv = await a!.run({ x, cos, sin, ...w[0] });
    const out = await co!.run({ q: qkv.q!, k: qkv.k!, v: qkv.v!, mask, ...w[1] }, ['attn_out']);
    const h = { data: addF32(x.data, out.attn_out!.data as Float32Array), dims: x.dims };
    const mo = await m!.run({ h, ...w[2] });
    x = { data: addF32(h.data, mo.mlp_out!.data as Float32Array), dims: x.dims };
  }
}
const inputsS = await time(() => loop(false), 5);
const boundS = await time(() => loop(true), 5);

// 3. zero-ablation sweep over every layer: prefix reuse vs naive
const answers = inputs.map((x) => ({ ...x, inputIds: x.inputIds.slice(0, T - 8), answerIds: x.inputIds.slice(T - 8) }));
async function sweepReuse(task: 'score' | 'generate'): Promise<void> {
  if (task === 'score') {
    const clean = await runner.clean(answers, { kind: 'score' });
    for (let l = 0; l < L; l++) await runner.resume(clean, l, { hooks: zeroAblation(l) });
  } else {
    const clean = await runner.clean(inputs, { kind: 'generate', maxNewTokens: 8, eosTokenIds: [] });
    for (let l = 0; l < L; l++) await runner.resume(clean, l, { hooks: zeroAblation(l) });
  }
}
async function sweepNaive(task: 'score' | 'generate'): Promise<void> {
  await (task === 'score' ? runner.score(answers) : runner.generate(inputs, { maxNewTokens: 8, eosTokenIds: [] }));
  for (let l = 0; l < L; l++) {
    const hooks = zeroAblation(l);
    await (task === 'score' ? runner.score(answers, { hooks }) : runner.generate(inputs, { maxNewTokens: 8, eosTokenIds: [], hooks }));
  }
}
const sweep = {
  score: { reuseS: await time(() => sweepReuse('score'), 1), naiveS: await time(() => sweepNaive('score'), 1) },
  generate8: { reuseS: await time(() => sweepReuse('generate'), 1), naiveS: await time(() => sweepNaive('generate'), 1) },
};

const r = (x: number) => Math.round(x * 1000) / 1000;
console.log(JSON.stringify({
  model: { layers: L, hidden: H, intermediate: c.intermediateSize, heads: c.numHeads, kvHeads: c.numKvHeads, vocab: c.vocabSize },
  batch: B, promptTokens: T, threads,
  prefill: {
    hookedTokensPerS: Math.round(tokens / hookedS), wholeSessionTokensPerS: Math.round(tokens / wholeS),
    overheadRatio: r(hookedS / wholeS),
  },
  weightBinding: {
    inputsEveryRunS: r(inputsS), boundInitializersS: r(boundS), boundSessionsBuildS: r(boundBuildS),
    faster: inputsS <= boundS ? 'inputs' : 'initializers', ratioInputsOverBound: r(inputsS / boundS),
  },
  zeroAblationSweep: {
    score: { prefixReuseS: r(sweep.score.reuseS), naiveS: r(sweep.score.naiveS), speedup: r(sweep.score.naiveS / sweep.score.reuseS) },
    generate8: { prefixReuseS: r(sweep.generate8.reuseS), naiveS: r(sweep.generate8.naiveS), speedup: r(sweep.generate8.naiveS / sweep.generate8.reuseS) },
  },
  sessionsCreated: pool.createdCount,
}, null, 2));
await runner.release();
await pool.release();
