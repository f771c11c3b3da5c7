/**
 * One transformer block (decoder layer or vision block) run piece by piece,
 * with the hook points between the pieces. The residual additions happen
 * here in float32, which rounds exactly like onnxruntime's Add.
 */
import type { AttentionShape, MlpShape } from '../graphs/pieces.js';
import { attentionCoreGraph, attentionInputGraph, mlpGraph } from '../graphs/pieces.js';
import type { HookContext, HookPoint, HookSet } from './hooks.js';
import type { BlockWeights } from './model-weights.js';
import type { GraphSession, SessionPool } from './ort-sessions.js';
import { addF32, concatSeq, type F32Tensor } from './tensor.js';

/** The three sessions of one block shape. */
export interface BlockSessions {
  attentionInput: GraphSession;
  attentionCore: GraphSession;
  mlp: GraphSession;
}

/** Gets (creating once) the sessions for a block shape from the pool. */
export async function blockSessions(pool: SessionPool, attention: AttentionShape, mlp: MlpShape): Promise<BlockSessions> {
  const a = JSON.stringify(attention);
  const m = JSON.stringify(mlp);
  return {
    attentionInput: await pool.get(`attention_input:${a}`, () => attentionInputGraph(attention)),
    attentionCore: await pool.get(`attention_core:${a}`, () => attentionCoreGraph(attention)),
    mlp: await pool.get(`mlp:${m}`, () => mlpGraph(mlp)),
  };
}

/** Inputs of one block call. */
export interface BlockInput {
  /** residual stream [B, T, H] */
  x: F32Tensor;
  /** rotary tables, broadcastable to [B, 1, T, d] */
  cos: F32Tensor;
  sin: F32Tensor;
  /** additive attention mask [B or 1, 1, T, S] */
  mask: F32Tensor;
  /** cached keys/values before this call, [B, nkv, S - T, d] */
  past?: { k: F32Tensor; v: F32Tensor };
}

/** Result of one block call: the new residual stream and the keys/values including the past. */
export interface BlockOutput {
  out: F32Tensor;
  k: F32Tensor;
  v: F32Tensor;
}

/** Runs one block with hooks; `ctx` is the hook context without its point. */
export async function runBlock(
  sessions: BlockSessions,
  w: BlockWeights,
  input: BlockInput,
  hooks: HookSet,
  ctx: Omit<HookContext, 'point'>,
): Promise<BlockOutput> {
  const at = (point: HookPoint, value: F32Tensor): F32Tensor => (hooks.empty ? value : hooks.apply(value, { ...ctx, point }));
  const x = at('resid_pre', input.x);
  const qkv = await sessions.attentionInput.run({ x, cos: input.cos, sin: input.sin, ...w.attentionInput }, ['q', 'k', 'v']);
  const kNew = at('k', qkv.k as F32Tensor);
  const vNew = at('v', qkv.v as F32Tensor);
  const k = input.past ? concatSeq(input.past.k, kNew) : kNew;
  const v = input.past ? concatSeq(input.past.v, vNew) : vNew;
  const wantPattern = !hooks.empty && hooks.has(ctx.section, ctx.layer, 'attn_pattern', ctx.phase);
  const core = await sessions.attentionCore.run(
    { q: qkv.q!, k, v, mask: input.mask, ...w.attentionCore },
    wantPattern ? ['attn_pattern', 'attn_out'] : ['attn_out'],
  );
  if (wantPattern) at('attn_pattern', core.attn_pattern as F32Tensor);
  const attnOut = at('attn_out', core.attn_out as F32Tensor);
  const h: F32Tensor = { data: addF32(x.data, attnOut.data), dims: x.dims };
  const mlpOut = at('mlp_out', (await sessions.mlp.run({ h, ...w.mlp }, ['mlp_out'])).mlp_out as F32Tensor);
  const out = at('resid_post', { data: addF32(h.data, mlpOut.data), dims: x.dims });
  return { out, k, v };
}
