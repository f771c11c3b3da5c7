/**
 * Frankenstein variants as use cases: resolve a recipe (a plain model, a
 * region preset over IN/RL, or a full merge recipe) to a canonical
 * fingerprint, and score it in an evaluation setting once per (variant,
 * probe set, setting, options); the transferability table is the reference's
 * grid (IN, RL, six splices x settings) built from those cached runs.
 */
import type { AnalysisOptions, AnalysisResult, ResolvedExample } from '../engine/analyses/types.js';
import { planScoreVariant, type ScoreVariantInput, type Setting } from '../engine/analyses/score-variant.js';
import { parseModelConfig } from '../engine/model/config.js';
import { MergekitConfigError, parseMergekitConfig, presetRecipe, recipeFingerprint, SPLICE_PRESETS, toMergekitConfig, validateRecipe, type MergeRecipe, type SplicePreset } from '../engine/merge/index.js';
import type { StorableDtype } from '../engine/checkpoint/index.js';
import type { ModelWorker } from '../engine/runtime/model-worker.js';
import type { CheckpointRow, Warehouse } from '../warehouse/index.js';
import type { AnalysisRequestOptions } from './analysis-service.js';
import { hasChatTemplate } from '../engine/model/chat.js';
import { resolveAnalysisOptions } from './analysis-options.js';
import type { CheckpointRegistry } from './checkpoint-registry.js';
import { InvalidArgument, UnknownCheckpoint } from './errors.js';
import { imagePath, type ProbeSetRegistry } from './probe-set-registry.js';
import type { RunHandle, RunManager } from './run-manager.js';
import { PathMissing, resolveAllowedPath } from './path-guard.js';
import { lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** What a client sends: exactly one of model, preset (with sft and rl), recipe or recipeYaml. */
export interface VariantRequest {
  model?: string | null;
  preset?: SplicePreset | null;
  sft?: string | null;
  rl?: string | null;
  layerCuts?: readonly number[] | null;
  recipe?: unknown;
  /** a mergekit config; its `model:` names are checkpoint ids */
  recipeYaml?: string | null;
  /** the CLI's mapping of `model:` names that are directories to the ids they were registered under */
  yamlModelIds?: Readonly<Record<string, string>>;
}

/** A resolved variant: what runs, and its identity. */
export interface ResolvedVariant {
  fingerprint: string;
  label: string;
  /** null for a plain checkpoint */
  recipe: MergeRecipe | null;
  models: CheckpointRow[];
  numLayers: number;
  hasVision: boolean;
  /** the stored dtype a mergekit config asks for (its out_dtype or dtype) */
  dtype?: StorableDtype;
  /** where a variant from a mergekit config knowingly differs from mergekit's output */
  notes: string[];
  /** what the client sent, stored with a scoring run so it can be replayed */
  request: VariantRequest;
}

export const SETTINGS: readonly Setting[] = ['perception', 'alignment', 'reasoning'];
const EXPORT_MODULE = new URL('../engine/analyses/export-variant.ts', import.meta.url);

export class VariantService {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly checkpoints: CheckpointRegistry,
    private readonly probeSets: ProbeSetRegistry,
    private readonly runs: RunManager,
    private readonly worker: () => Promise<ModelWorker>,
    private readonly roots: readonly string[],
  ) {}

  private async checkpoint(id: string, role: string): Promise<CheckpointRow> {
    const [row] = await this.warehouse.getCheckpoints([id]);
    if (!row) throw new UnknownCheckpoint(id, role);
    return this.checkpoints.refresh(row);
  }

  /** Validates a variant request and computes its canonical fingerprint. */
  async resolve(request: VariantRequest): Promise<ResolvedVariant> {
    return { ...(await this.resolveRequest(request)), request };
  }

  private async resolveRequest(request: VariantRequest): Promise<Omit<ResolvedVariant, 'request'>> {
    const given = (['model', 'preset', 'recipe', 'recipeYaml'] as const).filter((k) => request[k] !== null && request[k] !== undefined);
    if (given.length !== 1) throw new InvalidArgument('recipe', `give exactly one of 'model', 'preset' (with 'sft' and 'rl'), 'recipe' or 'recipeYaml'; got ${given.length ? given.join(', ') : 'none'}`);
    if (request.model) {
      const row = await this.checkpoint(request.model, 'model');
      const config = this.runnable(row);
      return { fingerprint: row.fingerprint, label: row.id, recipe: null, models: [row], numLayers: config.numLayers, hasVision: !!config.vision, notes: [] };
    }
    let recipe: MergeRecipe;
    let dtype: StorableDtype | undefined;
    let notes: string[] = [];
    let rows: Map<string, CheckpointRow>;
    if (request.preset) {
      if (!request.sft || !request.rl) throw new InvalidArgument('recipe', `a 'preset' needs 'sft' and 'rl'`);
      const sft = await this.checkpoint(request.sft, 'sft');
      const rl = await this.checkpoint(request.rl, 'rl');
      rows = new Map([[sft.id, sft], [rl.id, rl]]);
      recipe = this.guard(() => presetRecipe(request.preset!, { sftId: sft.id, rlId: rl.id, numLayers: sft.numLayers, layerCuts: request.layerCuts as [number, number] | undefined }));
      recipe = { ...recipe, label: request.preset };
    } else if (request.recipeYaml !== null && request.recipeYaml !== undefined) {
      const ids = request.yamlModelIds;
      // parsed twice like a JSON recipe: first for the model names, then against the base's layer count
      const parse = (numLayers?: number) => this.guardYaml(() => parseMergekitConfig(request.recipeYaml!, { numLayers, modelId: ids ? (r) => ids[r] ?? r : undefined }));
      const draft = parse().recipe;
      rows = new Map();
      for (const id of [draft.base, ...draft.donors]) rows.set(id, await this.checkpoint(id, 'mergekit model'));
      const parsed = parse(rows.get(draft.base)!.numLayers);
      recipe = parsed.recipe;
      dtype = parsed.dtype;
      notes = parsed.notes;
      if (recipe.label === undefined) recipe = { ...recipe, label: `mergekit ${parsed.method} of ${[...rows.keys()].join(', ')}` };
    } else {
      const draft = this.guard(() => validateRecipe(request.recipe));
      rows = new Map();
      for (const id of [draft.base, ...draft.donors]) rows.set(id, await this.checkpoint(id, 'recipe model'));
      recipe = this.guard(() => validateRecipe(request.recipe, rows.get(draft.base)!.numLayers));
    }
    const configs = [...rows.values()].map((r) => this.runnable(r));
    const numLayers = configs[0]!.numLayers;
    const fingerprint = recipeFingerprint(recipe, { modelFingerprints: Object.fromEntries([...rows].map(([id, r]) => [id, r.fingerprint])), numLayers });
    return { fingerprint, label: recipe.label ?? `merge of ${[...rows.keys()].join(', ')}`, recipe, models: [...rows.values()], numLayers, hasVision: configs.every((c) => !!c.vision), ...(dtype ? { dtype } : {}), notes };
  }

  /** A mergekit config error names its YAML path under the argument (`recipe.recipeYaml.models[1].parameters.density`). */
  private guardYaml<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof MergekitConfigError) throw new InvalidArgument(err.field ? `recipe.recipeYaml.${err.field}` : 'recipe.recipeYaml', err.message);
      throw err;
    }
  }

  private guard<T>(body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw new InvalidArgument(`recipe${(err as { field?: string }).field ? `.${(err as { field?: string }).field}` : ''}`, (err as Error).message);
    }
  }

  private runnable(row: CheckpointRow) {
    try {
      return parseModelConfig(row.config);
    } catch (err) {
      throw new InvalidArgument('recipe', `checkpoint '${row.id}' cannot be run by the engine: ${(err as Error).message}`);
    }
  }

  /** Starts or joins the scoring of a variant in one setting. */
  async score(variant: ResolvedVariant, probeSetId: string, setting: Setting, request: AnalysisRequestOptions = {}): Promise<RunHandle> {
    const tokenizerDir = variant.recipe ? variant.models.find((m) => m.id === variant.recipe!.base)!.path : variant.models[0]!.path;
    const chatTemplate = await hasChatTemplate(tokenizerDir);
    // checked before the probe set is read, so a bad option is refused without reading it
    resolveAnalysisOptions(request, variant.numLayers, undefined, chatTemplate);
    const { row: probeRow, set } = await this.probeSets.load(probeSetId);
    const options = resolveAnalysisOptions(request, variant.numLayers, probeRow.format, chatTemplate);
    const all = set.examples.map((e) => ({ ...e, targetImagePath: imagePath(set.root, e.images.target), sourceImagePath: imagePath(set.root, e.images.source) }));
    const examples = selectForSetting(all, setting, request, variant.hasVision);
    const input: Omit<ScoreVariantInput, 'options'> = {
      variant: variant.recipe
        ? { recipe: variant.recipe, dirs: Object.fromEntries(variant.models.map((m) => [m.id, m.path])), tokenizerDir: variant.models.find((m) => m.id === variant.recipe!.base)!.path }
        : { modelDir: variant.models[0]!.path },
      examples,
      setting,
    };
    return this.runs.startOrJoin<AnalysisResult>({
      kind: `variant_score.${setting}`,
      params: { setting, tasks: request.tasks ? [...request.tasks].sort() : null, maxExamples: request.maxExamples ?? null, scoring: options.scoring, maxNewTokens: options.maxNewTokens, batchSize: options.batchSize, bootstrapSamples: options.bootstrapSamples, seed: options.seed, chat: options.chat },
      inputs: [
        { role: 'variant', id: variant.label, fingerprint: variant.fingerprint },
        { role: 'probeSet', id: probeRow.id, fingerprint: probeRow.fingerprint },
      ],
      request: { service: 'variants', method: 'score', args: [variant.request, probeSetId, setting, request] },
      // every unit names the files it reads (each checkpoint of a recipe, the probe set), so a remote worker can check it has them
      plan: async () => planScoreVariant({ ...input, options: options satisfies AnalysisOptions }, [
        ...variant.models.map((m) => ({ role: variant.recipe ? `recipe model ${m.id}` : 'model', path: m.path, fingerprint: m.fingerprint })),
        { role: 'probeSet', path: probeRow.root, fingerprint: probeRow.fingerprint },
      ]),
      store: (warehouse, runId, result) => warehouse.completeAnalysisRun(runId, result),
    });
  }

  /**
   * Writes a merge variant as a checkpoint directory at `path` (inside an
   * allowed root, not existing yet) and registers it under `name`.
   */
  async export(variant: ResolvedVariant, path: string, options: { dtype: 'F32' | 'F16' | 'BF16'; name?: string | null }): Promise<CheckpointRow> {
    if (!variant.recipe) throw new InvalidArgument('recipe', `'${variant.label}' is a plain checkpoint: there is nothing to merge (export a recipe or a preset)`);
    const target = await this.exportTarget(path);
    const dirs = Object.fromEntries(variant.models.map((m) => [m.id, m.path]));
    const worker = await this.worker();
    // the equivalent mergekit config travels with the weights when the recipe has one (docs/merging.md lists which do)
    const mergekit = toMergekitConfig(variant.recipe, { numLayers: variant.numLayers, dtype: options.dtype });
    await worker.run(EXPORT_MODULE, 'exportVariantJob', { recipe: variant.recipe, dirs, path: target, dtype: options.dtype, copyFrom: dirs[variant.recipe.base]!, mergekitConfig: mergekit.yaml ?? undefined });
    return this.checkpoints.register(target, options.name ?? undefined);
  }

  /**
   * A new directory's path: its parent must exist inside a model root (a
   * relative path is relative to a root); nothing may exist at the path itself.
   */
  private async exportTarget(path: string): Promise<string> {
    if (path.includes('\0')) throw new InvalidArgument('path', `'path' ${JSON.stringify(path)} contains a NUL byte, which no file name can hold`);
    const name = basename(path);
    if (name === '' || name === '.' || name === '..') throw new InvalidArgument('path', `'${path}' does not end in the name of a directory to create`);
    let real: string;
    try {
      ({ real } = await resolveAllowedPath(dirname(path), this.roots));
    } catch (err) {
      if (err instanceof PathMissing) throw new InvalidArgument('path', `the folder that would hold '${path}' does not exist inside a model root`);
      throw err;
    }
    const target = join(real, name);
    // lstat, not stat: a dangling symlink is something at the path too, and renaming onto it would fail half way
    const occupied = await lstat(target).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return false;
        throw new InvalidArgument('path', `'${path}' cannot be checked (${e.code ?? 'error'})`);
      },
    );
    if (occupied) throw new InvalidArgument('path', `'${path}' already exists (a symlink, even a dangling one, counts); exportVariant writes a new directory`);
    return target;
  }

  /**
   * Per-example outcomes of a DONE scoring run, by condition and example id
   * (read in pages).
   */
  async outcomes(runId: string): Promise<Map<string, Map<string, { task: string; correct: boolean }>>> {
    const out = new Map<string, Map<string, { task: string; correct: boolean }>>();
    let after: string | undefined;
    for (;;) {
      const page = await this.warehouse.exampleResults({ runId, first: 1000, after });
      if (page.length === 0) break;
      for (const r of page) {
        const byId = out.get(r.condition) ?? new Map<string, { task: string; correct: boolean }>();
        byId.set(r.exampleId, { task: r.task, correct: r.correct === true });
        out.set(r.condition, byId);
      }
      after = page[page.length - 1]!.exampleId;
    }
    return out;
  }

  /** The settings a probe set can be scored in (those with at least one eligible example). */
  async settingsOf(probeSetId: string, hasVision: boolean): Promise<Setting[]> {
    const { set, row: _row } = await this.probeSets.load(probeSetId);
    const all = set.examples.map((e) => ({ ...e, targetImagePath: imagePath(set.root, e.images.target), sourceImagePath: imagePath(set.root, e.images.source) }));
    return SETTINGS.filter((s) => {
      try {
        return selectForSetting(all, s, {}, hasVision).length > 0;
      } catch {
        return false;
      }
    });
  }

  /** The reference's variants for an IN/RL pair: IN, RL and the six region splices. */
  async referenceVariants(sft: string, rl: string, layerCuts?: readonly number[] | null): Promise<ResolvedVariant[]> {
    const out = [await this.resolve({ model: sft }), await this.resolve({ model: rl })];
    for (const preset of SPLICE_PRESETS) out.push(await this.resolve({ preset, sft, rl, layerCuts }));
    return out;
  }
}

/**
 * Examples of a setting: the split named after it when the set has one,
 * else every example the setting can use (an image for perception, an image
 * and a description for alignment, anything for reasoning).
 */
export function selectForSetting(all: ResolvedExample[], setting: Setting, request: AnalysisRequestOptions, hasVision: boolean): ResolvedExample[] {
  const hasSplit = all.some((e) => e.split === setting);
  const perTask = new Map<string, number>();
  const max = request.maxExamples ?? Infinity;
  const chosen = [...all]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter((e) => (hasSplit ? e.split === setting : true))
    .filter((e) => !request.tasks?.length || request.tasks.includes(e.task))
    .filter((e) => (setting === 'reasoning' ? true : e.targetImagePath !== null && (setting !== 'alignment' || !!e.description)))
    .filter((e) => setting === 'reasoning' || hasVision)
    .filter((e) => {
      const n = perTask.get(e.task) ?? 0;
      perTask.set(e.task, n + 1);
      return n < max;
    });
  if (chosen.length === 0) throw new InvalidArgument('setting', `the probe set has no examples for the ${setting} setting`);
  return chosen;
}
