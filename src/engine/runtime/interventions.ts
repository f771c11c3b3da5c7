/**
 * The interventions of METHOD.md written as hooks: zero ablation of a layer,
 * residual-stream patching, visual-token K/V swapping and attention-mass
 * read-outs. Each returns plain {@link Hook}s to pass to a run.
 */
import type { Hook, HookContext, HookPoint } from './hooks.js';
import type { CleanRun } from './runner.js';
import type { F32Tensor } from './tensor.js';

/** Replaces a decoder layer by the identity on the residual stream: attn_out = mlp_out = 0, so resid_post = resid_pre. */
export function zeroAblation(layer: number): Hook[] {
  const zero = (t: F32Tensor) => new Float32Array(t.data.length);
  return [
    { point: 'attn_out', layers: layer, fn: zero },
    { point: 'mlp_out', layers: layer, fn: zero },
  ];
}

/** Options of {@link patchResidual}. */
export interface PatchResidualOptions {
  /** decoder layer whose stream is replaced */
  layer: number;
  /** ['resid_pre'] */
  point?: Extract<HookPoint, 'resid_pre' | 'resid_post' | 'attn_out' | 'mlp_out'>;
  /** the donor stream [B, T, H] on the same layout (e.g. another model's CleanRun.residPre[layer]) */
  source: F32Tensor;
  /** per example, sequence indices to replace [all] */
  positions?: readonly (readonly number[])[];
}

/** Replaces the residual stream at one layer (prompt pass only) with a donor's, at all or chosen positions. */
export function patchResidual(o: PatchResidualOptions): Hook {
  return {
    point: o.point ?? 'resid_pre',
    layers: o.layer,
    phase: 'prefill',
    fn: (value, ctx) => {
      if (o.source.data.length !== value.data.length) {
        throw new RangeError(`'source' has shape [${o.source.dims.join(', ')}]; the patched stream has [${value.dims.join(', ')}]`);
      }
      if (!o.positions) return o.source.data;
      const [, T, H] = value.dims as [number, number, number];
      const out = value.data.slice();
      o.positions.forEach((ps, b) => {
        for (const t of ps) out.set(o.source.data.subarray((b * T + t) * H, (b * T + t + 1) * H), (b * T + t) * H);
      });
      return out;
    },
  };
}

/**
 * Rows of the donor at `srcPos` placed at `dstPos` of a [B, h, T, d] tensor;
 * when the spans differ in length the donor is linearly interpolated along positions.
 */
function spliceSpan(value: F32Tensor, b: number, dstPos: readonly number[], donor: F32Tensor, srcPos: readonly number[], out: Float32Array): void {
  const [, h, T, d] = value.dims as [number, number, number, number];
  const Ts = donor.dims[2]!;
  const n = dstPos.length;
  const m = srcPos.length;
  for (let head = 0; head < h; head++) {
    const dstBase = (b * h + head) * T;
    const srcBase = (b * h + head) * Ts;
    for (let i = 0; i < n; i++) {
      const at = n === 1 || m === 1 ? 0 : (i * (m - 1)) / (n - 1);
      const lo = Math.floor(at);
      const hi = Math.min(lo + 1, m - 1);
      const f = at - lo;
      const o = (dstBase + dstPos[i]!) * d;
      const a = (srcBase + srcPos[lo]!) * d;
      const c = (srcBase + srcPos[hi]!) * d;
      for (let j = 0; j < d; j++) out[o + j] = f === 0 ? donor.data[a + j]! : (1 - f) * donor.data[a + j]! + f * donor.data[c + j]!;
    }
  }
}

/**
 * Visual-token swap (METHOD.md 1a): at every decoder layer >= `fromLayer`, the keys and
 * values of the target's visual span are replaced by those the source batch had at that layer
 * (example b takes source example b). The cache keeps the swapped values, so decode steps see them.
 */
export function swapVisualKV(o: { fromLayer: number; source: CleanRun }): Hook[] {
  const fn = (which: 'k' | 'v') => (value: F32Tensor, ctx: HookContext) => {
    const donor = o.source.kv[ctx.layer]![which];
    const srcLayout = o.source.batch.layout;
    if (srcLayout.batchSize !== ctx.layout.batchSize) throw new RangeError(`'source' has ${srcLayout.batchSize} examples; the target batch has ${ctx.layout.batchSize}`);
    const out = value.data.slice();
    for (let b = 0; b < ctx.layout.batchSize; b++) {
      const dst = ctx.layout.visualPositions[b]!;
      const src = srcLayout.visualPositions[b]!;
      if (dst.length === 0 || src.length === 0) continue;
      spliceSpan(value, b, dst, donor, src, out);
    }
    return out;
  };
  const layers = (l: number) => l >= o.fromLayer;
  return [
    { point: 'k', layers, phase: 'prefill', fn: fn('k') },
    { point: 'v', layers, phase: 'prefill', fn: fn('v') },
  ];
}

/** Attention mass read on the prompt pass; see {@link attentionMass}. */
export interface AttentionMassProbe {
  hooks: Hook[];
  /** mass[layer][example]: mean over heads and query positions of the summed attention to the key positions */
  mass: number[][];
}

/**
 * Reads attention mass from query positions A to key positions B at each decoder layer
 * (prompt pass): for each example the sum of attn_pattern over heads, A and B, divided by
 * heads·|A| (so 1 means all attention of A lands on B).
 */
export function attentionMass(o: {
  numLayers: number;
  queries: readonly (readonly number[])[];
  keys: readonly (readonly number[])[];
}): AttentionMassProbe {
  const mass: number[][] = Array.from({ length: o.numLayers }, () => []);
  const hook: Hook = {
    point: 'attn_pattern',
    phase: 'prefill',
    fn: (p, ctx) => {
      const [B, nh, T, S] = p.dims as [number, number, number, number];
      for (let b = 0; b < B; b++) {
        const qs = o.queries[b] ?? [];
        const ks = o.keys[b] ?? [];
        let sum = 0;
        for (let h = 0; h < nh; h++) {
          for (const q of qs) {
            const row = ((b * nh + h) * T + q) * S;
            for (const k of ks) sum += p.data[row + k]!;
          }
        }
        mass[ctx.layer]![b] = qs.length === 0 ? 0 : sum / (nh * qs.length);
      }
    },
  };
  return { hooks: [hook], mass };
}
