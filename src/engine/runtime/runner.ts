/**
 * The hooked runner: batched forward passes, greedy generation and
 * teacher-forced scoring with hooks, plus prefix reuse — a clean run keeps the
 * state at every layer boundary so an intervention at layer L resumes there.
 */
import { type ModelInput, prepareBatch, type PreparedBatch } from './batch.js';
import { type Hook, HookSet } from './hooks.js';
import { type LayerKV, LanguageModel } from './language-model.js';
import { ModelWeights, type ModelWeightsOptions } from './model-weights.js';
import { SessionPool } from './ort-sessions.js';
import { argmaxRow, type GenerateResult, type GenerateTask, type LogitsResult, logSoftmaxAt, sampleRow, type ScoreInput, type ScoreResult, type Task, type TaskResult, uniformStream, validateTask } from './tasks.js';
import type { F32Tensor } from './tensor.js';
import type { WeightSource } from './weights.js';

/** Options of {@link HookedRunner.create}. */
export interface RunnerOptions extends ModelWeightsOptions {
  /** the model */
  weights: WeightSource;
  /** sessions to use (shared between runners, not released by the runner) [a pool the runner owns] */
  pool?: SessionPool;
  /** intra-op threads when the runner makes its own pool */
  threads?: number;
}

/**
 * Control of a long generation: a budget of 1024 new tokens can take minutes
 * on a CPU, so cancelling and reporting cannot wait for the batch to end.
 */
export interface StepControl {
  /** checked before every decode step; an aborted signal ends the run with its reason */
  signal?: AbortSignal;
  /** called after every decode step with the step (1-based) and the budget */
  onStep?: (step: number, maxNewTokens: number) => void;
}

/** Options of one run. */
export interface RunOptions extends StepControl {
  hooks?: readonly Hook[];
}

/**
 * The clean (hook-free) prompt pass of a batch with its state at every layer
 * boundary, and the task's result. Produced by {@link HookedRunner.clean}.
 */
export interface CleanRun<T extends Task = Task> {
  readonly task: T;
  readonly batch: PreparedBatch;
  /**
   * residPre[l] = resid_pre of layer l [B, T, H]; residPre[N] = the stream
   * entering the final norm; only at the boundaries kept (see {@link CleanKeep})
   */
  readonly residPre: readonly (F32Tensor | undefined)[];
  /** keys/values of the prompt at each layer kept, [B, nkv, T, d] */
  readonly kv: readonly LayerKV[];
  /** the clean task result */
  readonly result: TaskResult<T>;
  /** @internal the runner that made it */
  readonly owner: object;
  /** @internal inputs, for answer ids and decoding */
  readonly inputs: readonly ModelInput[];
}

/**
 * What a clean run keeps: the residual stream at some layer boundaries and
 * the prompt's keys/values of the layers below one, which is what resuming
 * from those layers (or patching from them) needs. A clean run keeps
 * [B, T, H] floats at each boundary, so keeping only those an analysis uses
 * bounds its memory by its layers, not the model's (all of them by default).
 */
export interface CleanKeep {
  /** boundaries 0..N whose resid_pre is kept */
  states: readonly number[];
  /** keys/values of layers 0..kvBelow-1 are kept */
  kvBelow: number;
}

/** What resuming from each of `layers` needs. */
export function keepForResume(layers: readonly number[]): CleanKeep {
  return { states: layers, kvBelow: Math.max(0, ...layers) };
}

/** Runs one model with hooks. Create with {@link HookedRunner.create}, free with {@link HookedRunner.release}. */
export class HookedRunner {
  readonly #lm: LanguageModel;
  readonly #ownedPool: SessionPool | undefined;

  private constructor(lm: LanguageModel, ownedPool: SessionPool | undefined) {
    this.#lm = lm;
    this.#ownedPool = ownedPool;
  }

  /** Compiles (or reuses from the pool) the sessions of this model's shapes. */
  static async create(options: RunnerOptions): Promise<HookedRunner> {
    const owned = options.pool ? undefined : await SessionPool.create({ threads: options.threads });
    try {
      const lm = await LanguageModel.create(new ModelWeights(options.weights, options), options.pool ?? owned!);
      return new HookedRunner(lm, owned);
    } catch (e) {
      await owned?.release();
      throw e;
    }
  }

  /** The model's parsed config. */
  get config() {
    return this.#lm.config;
  }

  /** Runs a task on a batch with hooks on every layer. */
  async run<T extends Task>(inputs: readonly (T extends { kind: 'score' } ? ScoreInput : ModelInput)[], task: T, options: RunOptions = {}): Promise<TaskResult<T>> {
    validateTask(task);
    const hooks = new HookSet(options.hooks);
    const batch = this.#prepare(inputs, task);
    const kv: (LayerKV | undefined)[] = [];
    const x = await this.#lm.embed(batch.ids, hooks, batch);
    const final = await this.#lm.layers(x, 0, kv, hooks, { layout: batch.layout, phase: 'prefill', step: 0, offset: 0 });
    return this.#finish(task, batch, inputs, final, kv as LayerKV[], hooks, options);
  }

  /** Logits of a batch (see {@link LogitsTask}). */
  forward(inputs: readonly ModelInput[], options: RunOptions & { positions?: 'last' | 'all' } = {}): Promise<LogitsResult> {
    return this.run(inputs, { kind: 'logits', positions: options.positions }, options);
  }

  /** Greedy or sampled generation (see {@link GenerateTask}). */
  generate(
    inputs: readonly ModelInput[],
    options: RunOptions & Omit<GenerateTask, 'kind'>,
  ): Promise<GenerateResult> {
    const { maxNewTokens, eosTokenIds, temperature, seed, suppressTokenIds, keepFirstLogits } = options;
    return this.run(inputs, { kind: 'generate', maxNewTokens, eosTokenIds, temperature, seed, suppressTokenIds, keepFirstLogits }, options);
  }

  /** Teacher-forced scoring of gold answers (see {@link ScoreTask}). */
  score(inputs: readonly ScoreInput[], options: RunOptions = {}): Promise<ScoreResult> {
    return this.run(inputs, { kind: 'score' }, options);
  }

  /**
   * The clean pass of a batch, keeping the state at the layer boundaries
   * `keep` names (default: every one) for {@link HookedRunner.resume}.
   */
  async clean<T extends Task>(inputs: readonly (T extends { kind: 'score' } ? ScoreInput : ModelInput)[], task: T, control: StepControl = {}, keep?: CleanKeep): Promise<CleanRun<T>> {
    validateTask(task);
    const hooks = new HookSet();
    const batch = this.#prepare(inputs, task);
    const kv: (LayerKV | undefined)[] = [];
    const residPre: (F32Tensor | undefined)[] = [];
    const states = keep ? new Set(keep.states) : undefined;
    const x = await this.#lm.embed(batch.ids, hooks, batch);
    const final = await this.#lm.layers(x, 0, kv, hooks, { layout: batch.layout, phase: 'prefill', step: 0, offset: 0 }, (l, state) => {
      if (!states || states.has(l)) residPre[l] = state;
    });
    const promptKv = (kv as LayerKV[]).slice(0, keep ? keep.kvBelow : kv.length);
    const result = await this.#finish(task, batch, inputs, final, kv as LayerKV[], hooks, control);
    return { task, batch, residPre, kv: promptKv, result, owner: this, inputs };
  }

  /**
   * Re-runs a clean batch with hooks, starting from the clean state at
   * `fromLayer` (its resid_pre and the clean keys/values of layers below it)
   * instead of recomputing layers < fromLayer. Equal to {@link HookedRunner.run}
   * with the same hooks whenever the hooks leave the prompt pass of layers < fromLayer unchanged
   * (hooks on those layers are not called on the prompt pass; they are on decode steps).
   */
  async resume<T extends Task>(clean: CleanRun<T>, fromLayer: number, options: RunOptions = {}): Promise<TaskResult<T>> {
    if (clean.owner !== this) throw new TypeError(`'clean' was made by another runner; resume it with the runner that made it`);
    const N = this.config.numLayers;
    if (!Number.isInteger(fromLayer) || fromLayer < 0 || fromLayer > N) throw new RangeError(`'fromLayer' must be in 0..${N}, got ${fromLayer}`);
    const state = clean.residPre[fromLayer];
    if (!state || clean.kv.length < fromLayer) throw new RangeError(`the clean run kept no state to resume from layer ${fromLayer} (see CleanKeep)`);
    const hooks = new HookSet(options.hooks);
    const kv: (LayerKV | undefined)[] = clean.kv.slice(0, fromLayer);
    const final = await this.#lm.layers(state, fromLayer, kv, hooks, { layout: clean.batch.layout, phase: 'prefill', step: 0, offset: 0 });
    return this.#finish(clean.task, clean.batch, clean.inputs, final, kv as LayerKV[], hooks, options);
  }

  #prepare(inputs: readonly ModelInput[], task: Task): PreparedBatch {
    if (task.kind !== 'score') return prepareBatch(this.config, inputs);
    const joined = (inputs as readonly ScoreInput[]).map((x, b) => {
      if (!Array.isArray(x.answerIds) || x.answerIds.length === 0) throw new RangeError(`'inputs[${b}].answerIds' must be a non-empty list of token ids`);
      return { ...x, inputIds: [...x.inputIds, ...x.answerIds] };
    });
    return prepareBatch(this.config, joined);
  }

  async #finish<T extends Task>(task: T, batch: PreparedBatch, inputs: readonly ModelInput[], final: F32Tensor, kv: LayerKV[], hooks: HookSet, control: StepControl): Promise<TaskResult<T>> {
    const { batchSize: B, length: T } = batch.layout;
    const V = this.config.vocabSize;
    if (task.kind === 'logits') {
      const all = task.positions === 'all';
      const rows = all ? Array.from({ length: B * T }, (_, i) => i) : Array.from({ length: B }, (_, b) => b * T + T - 1);
      const logits = await this.#lm.logits(final, rows);
      return { kind: 'logits', logits, dims: all ? [B, T, V] : [B, V] } satisfies LogitsResult as TaskResult<T>;
    }
    if (task.kind === 'score') return (await this.#score(batch, inputs as readonly ScoreInput[], final)) as TaskResult<T>;
    return (await this.#generate(task as GenerateTask, batch, final, kv, hooks, control)) as TaskResult<T>;
  }

  async #score(batch: PreparedBatch, inputs: readonly ScoreInput[], final: F32Tensor): Promise<ScoreResult> {
    const T = batch.layout.length;
    const V = this.config.vocabSize;
    const rows: number[] = [];
    inputs.forEach((x, b) => {
      const A = x.answerIds.length;
      for (let j = 0; j < A; j++) rows.push(b * T + T - A - 1 + j);
    });
    const logits = await this.#lm.logits(final, rows);
    const result: ScoreResult = { kind: 'score', logProb: [], tokenLogProbs: [], exactMatch: [] };
    let r = 0;
    for (const x of inputs) {
      const lps: number[] = [];
      let match = true;
      for (const gold of x.answerIds) {
        lps.push(logSoftmaxAt(logits, r, V, gold));
        if (argmaxRow(logits, r, V) !== gold) match = false;
        r++;
      }
      result.tokenLogProbs.push(lps);
      result.logProb.push(lps.reduce((a, b) => a + b, 0));
      result.exactMatch.push(match);
    }
    return result;
  }

  async #generate(task: GenerateTask, batch: PreparedBatch, final: F32Tensor, kv: LayerKV[], hooks: HookSet, control: StepControl): Promise<GenerateResult> {
    const { batchSize: B, length: T } = batch.layout;
    const V = this.config.vocabSize;
    const eos = new Set(task.eosTokenIds ?? this.config.eosTokenIds);
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const finish: ('eos' | 'length')[] = new Array(B).fill('length');
    const done = new Array<boolean>(B).fill(false);
    const temperature = task.temperature ?? 0;
    const uniform = uniformStream(task.seed ?? 0);
    const suppressed = task.suppressTokenIds ?? [];
    let logits = await this.#lm.logits(final, Array.from({ length: B }, (_, b) => b * T + T - 1));
    const firstLogits = task.keepFirstLogits ? logits.slice() : undefined;
    for (let step = 1; ; step++) {
      const next: number[] = [];
      for (let b = 0; b < B; b++) {
        for (const id of suppressed) logits[b * V + id] = -Infinity;
        // one draw per row and step, finished rows included, so a row's tokens do not depend on when others stop
        const id = temperature === 0 ? argmaxRow(logits, b, V) : sampleRow(logits, b, V, temperature, uniform());
        next.push(id);
        if (done[b]) continue;
        if (eos.has(id)) [done[b], finish[b]] = [true, 'eos'];
        else tokens[b]!.push(id);
      }
      control.onStep?.(step, task.maxNewTokens);
      if (step >= task.maxNewTokens || done.every(Boolean)) break;
      if (control.signal) {
        // let a pending cancel message be delivered before paying for another step
        await new Promise((resolve) => setImmediate(resolve));
        control.signal.throwIfAborted();
      }
      const x = await this.#lm.embed(next.map((id) => [id]), hooks);
      const pass = { layout: batch.layout, phase: 'decode' as const, step, offset: T + step - 1 };
      const out = await this.#lm.layers(x, 0, kv, hooks, pass);
      logits = await this.#lm.logits(out, Array.from({ length: B }, (_, b) => b));
    }
    return { kind: 'generate', tokens, finish, ...(firstLogits ? { firstLogits } : {}) };
  }

  /** Frees the runner's widened weights and its own session pool, if it made one. */
  async release(): Promise<void> {
    this.#lm.weights.release();
    await this.#ownedPool?.release();
  }
}
