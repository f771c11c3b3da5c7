/**
 * One tensor of a variant made by an operation other than a splice, composed
 * a block of rows at a time. What a method needs of the whole tensor (SLERP's
 * norms and dot product, TIES's magnitude threshold) is gathered first by
 * passes over the blocks, so the whole tensor is never held: an embedding or
 * head merged by TIES, DARE, SLERP or linear costs its blocks, not [V, H] of
 * every model. Composed in blocks or whole, every element is the same
 * arithmetic in the same order, so the results are equal bit for bit.
 */
import { addSlerpSums, combineTaskVectors, dareUniform, lerp, linearCombination, randomDrop, slerpCoefficients, slerpPiece, type SlerpSums, taskVector, TrimThreshold } from './methods.js';
import type { ResolvedOperation } from './plan.js';
import { ModelMismatchError } from './errors.js';
import type { ModelId, Param } from './recipe.js';

/** Rows start..start+count-1 of the tensor in one model, as float32 (a fresh array or a view the composer only reads). */
export type ReadRows = (model: ModelId, start: number, count: number) => Promise<Float32Array>;

export interface ComposerOptions {
  name: string;
  op: Exclude<ResolvedOperation, { op: 'splice' }>;
  rows: number;
  /** elements per row (Infinity: one row of unknown length, composed whole) */
  width: number;
  read: ReadRows;
  /** a parameter of the operation at this tensor */
  value: (p: Param) => number;
  /** DARE seed of the recipe */
  seed: number;
  /** rows per block of the passes and of {@link TensorComposer.whole} */
  blockRows: number;
}

type TaskOp = Extract<ResolvedOperation, { op: 'task_arithmetic' | 'ties' | 'dare_linear' | 'dare_ties' }>;

export class TensorComposer {
  readonly #o: ComposerOptions;
  /** whole-tensor statistics, gathered once */
  #slerp: Promise<SlerpSums> | undefined;
  #trims: Promise<(TrimThreshold | null)[]> | undefined;

  constructor(options: ComposerOptions) {
    this.#o = options;
  }

  /** The whole tensor, composed block by block into one array. */
  async whole(): Promise<Float32Array> {
    const { rows, width, blockRows } = this.#o;
    if (rows <= blockRows) return this.rows(0, rows);
    const out = new Float32Array(rows * width);
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      out.set(await this.rows(start, count), start * width);
    }
    return out;
  }

  /** Rows start..start+count-1 of the composed tensor. */
  async rows(start: number, count: number): Promise<Float32Array> {
    const { op, value } = this.#o;
    switch (op.op) {
      case 'interpolate': {
        const [a, b] = await this.#readAll([op.base, op.donor], start, count);
        return lerp(a!, b!, value(op.alpha));
      }
      case 'linear':
        return linearCombination(await this.#readAll(op.models.map((m) => m.model), start, count), op.models.map((m) => value(m.weight)), op.normalize);
      case 'slerp': {
        const [a, b] = await this.#readAll([op.base, op.model], start, count);
        const t = value(op.t);
        let sums: SlerpSums;
        if (start === 0 && count === this.#o.rows) {
          // the whole tensor at hand: its sums cost no second read
          sums = { aa: 0, bb: 0, ab: 0 };
          addSlerpSums(sums, a!, b!);
        } else {
          sums = await (this.#slerp ??= this.#slerpSums());
        }
        return slerpPiece(a!, b!, t, slerpCoefficients(sums, t, op.dotThreshold));
      }
      default:
        return this.#task(op, start, count);
    }
  }

  async #task(op: TaskOp, start: number, count: number): Promise<Float32Array> {
    const { width, value, seed, name } = this.#o;
    const [base, ...xs] = await this.#readAll([op.base, ...op.models.map((m) => m.model)], start, count);
    let deltas = xs.map((x) => taskVector(x, base!));
    if (op.op === 'ties') {
      const whole = start === 0 && count === this.#o.rows;
      const trims = whole ? this.#trimsOf(op, deltas) : await (this.#trims ??= this.#gatherTrims(op));
      deltas = deltas.map((d, k) => trims[k]?.apply(d, start) ?? d);
    } else if (op.op === 'dare_linear' || op.op === 'dare_ties') {
      deltas = deltas.map((d, k) => randomDrop(d, value(op.models[k]!.density), op.rescale, dareUniform(seed, name, k), start === 0 ? 0 : start * width));
    }
    return combineTaskVectors({
      base: base!,
      deltas,
      weights: op.models.map((m) => value(m.weight)),
      consensus: op.op === 'ties' || op.op === 'dare_ties',
      normalize: op.normalize,
      lambda: op.lambda,
    });
  }

  /** TIES thresholds from task vectors held whole. */
  #trimsOf(op: TaskOp, deltas: Float32Array[]): (TrimThreshold | null)[] {
    return deltas.map((d, k) => {
      const density = this.#o.value(op.models[k]!.density);
      if (density >= 1) return null;
      const trim = new TrimThreshold(d.length, density, this.#o.width);
      for (let pass = 0; pass < trim.passes; pass++) {
        trim.feed(d);
        trim.endPass();
      }
      return trim;
    });
  }

  /** TIES thresholds by passes over the blocks (the task vectors are never held whole). */
  async #gatherTrims(op: TaskOp): Promise<(TrimThreshold | null)[]> {
    const { rows, width, blockRows } = this.#o;
    const trims = op.models.map((m) => {
      const density = this.#o.value(m.density);
      return density >= 1 ? null : new TrimThreshold(rows * width, density, width);
    });
    const passes = Math.max(0, ...trims.map((t) => t?.passes ?? 0));
    for (let pass = 0; pass < passes; pass++) {
      for (let start = 0; start < rows; start += blockRows) {
        const count = Math.min(blockRows, rows - start);
        const base = await this.#o.read(op.base, start, count);
        for (const [k, trim] of trims.entries()) {
          if (!trim || pass >= trim.passes) continue;
          trim.feed(taskVector(await this.#o.read(op.models[k]!.model, start, count), base));
        }
      }
      for (const trim of trims) if (trim && pass < trim.passes) trim.endPass();
    }
    return trims;
  }

  async #slerpSums(): Promise<SlerpSums> {
    const { rows, blockRows, op } = this.#o;
    const pair = op as Extract<ResolvedOperation, { op: 'slerp' }>;
    const sums = { aa: 0, bb: 0, ab: 0 };
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      const [a, b] = await this.#readAll([pair.base, pair.model], start, count);
      addSlerpSums(sums, a!, b!);
    }
    return sums;
  }

  /** One block of each model, checking they have the same number of elements. */
  async #readAll(models: readonly ModelId[], start: number, count: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const name = this.#o.name;
    for (const id of models) {
      const data = await this.#o.read(id, start, count);
      if (out.length > 0 && data.length !== out[0]!.length) {
        throw new ModelMismatchError('shape', id, name, `tensor '${name}' has ${data.length} elements in model ${JSON.stringify(id)} but ${out[0]!.length} in model ${JSON.stringify(models[0])}`);
      }
      out.push(data);
    }
    return out;
  }
}
