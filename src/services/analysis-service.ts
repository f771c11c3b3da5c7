/**
 * The functional analyses as use cases shared by GraphQL and the CLI:
 * validate the request, select examples, key the run, and run it once as a
 * plan of work units (engine/analyses/unit-cut.ts); rows are stored
 * atomically with the run's status.
 */
import type { AnalysisOptions, AnalysisResult, ResolvedExample } from '../engine/analyses/types.js';
import { parseModelConfig, type ModelConfig } from '../engine/model/config.js';
import { planActivationPatching } from '../engine/analyses/activation-patching.js';
import { planAttentionShift } from '../engine/analyses/attention-shift.js';
import { planLocalizeReasoning } from '../engine/analyses/localize-reasoning.js';
import { planLocalizeVision } from '../engine/analyses/localize-vision.js';
import type { UnitInput, UnitPlan } from '../engine/units/work-unit.js';
import type { CheckpointRow, Warehouse } from '../warehouse/index.js';
import type { CheckpointRegistry } from './checkpoint-registry.js';
import { InvalidArgument, UnknownCheckpoint } from './errors.js';
import { imagePath, type ProbeSetRegistry } from './probe-set-registry.js';
import type { RunHandle, RunManager, RunRequest } from './run-manager.js';
import { hasChatTemplate } from '../engine/model/chat.js';
import { intIn, resolveAnalysisOptions } from './analysis-options.js';

/** The request options as clients send them (LLM layers 1-based, as on the unified index). */
export interface AnalysisRequestOptions {
  layers?: readonly number[] | null;
  tasks?: readonly string[] | null;
  split?: string | null;
  maxExamples?: number | null;
  scoring?: 'GENERATE' | 'TEACHER_FORCED' | null;
  maxNewTokens?: number | null;
  batchSize?: number | null;
  bootstrapSamples?: number | null;
  seed?: number | null;
  /** default: true when every model of the request ships a chat template */
  chat?: boolean | null;
}

export type LocalizationMethod = 'VISUAL_TOKEN_SWAP' | 'ZERO_ABLATION';

/** A run kind and how its engine input is cut into work units. */
interface AnalysisKind<I> {
  kind: string;
  plan(input: I, files: readonly UnitInput[]): UnitPlan<AnalysisResult>;
}

const ANALYSES = {
  VISUAL_TOKEN_SWAP: { kind: 'localization.visual_token_swap', plan: planLocalizeVision },
  ZERO_ABLATION: { kind: 'localization.zero_ablation', plan: planLocalizeReasoning },
  ATTENTION_SHIFT: { kind: 'attention_shift', plan: planAttentionShift },
  ACTIVATION_PATCHING: { kind: 'activation_patching', plan: planActivationPatching },
} as const;

interface Model {
  row: CheckpointRow;
  config: ModelConfig;
}

export class AnalysisService {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly checkpoints: CheckpointRegistry,
    private readonly probeSets: ProbeSetRegistry,
    private readonly runs: RunManager,
  ) {}

  /** METHOD 1a (VISUAL_TOKEN_SWAP) or 1b (ZERO_ABLATION) on one model. */
  localization(modelId: string, probeSetId: string, method: LocalizationMethod, options: AnalysisRequestOptions = {}): Promise<RunHandle> {
    const spec = ANALYSES[method];
    const call = { service: 'analyses', method: 'localization', args: [modelId, probeSetId, method, options] };
    return this.start(call, spec, [['model', modelId]], probeSetId, options, method === 'VISUAL_TOKEN_SWAP' ? 'pairs' : 'any', ([model], examples, o) => ({
      modelDir: model!.row.path,
      examples,
      options: o,
    }));
  }

  /** METHOD 1c: attention mass from text to visual tokens, models A and B. */
  attentionShift(a: string, b: string, probeSetId: string, options: AnalysisRequestOptions = {}): Promise<RunHandle> {
    const call = { service: 'analyses', method: 'attentionShift', args: [a, b, probeSetId, options] };
    return this.start(call, ANALYSES.ATTENTION_SHIFT, [['a', a], ['b', b]], probeSetId, options, 'images', ([ma, mb], examples, o) => ({
      modelDirA: ma!.row.path,
      modelDirB: mb!.row.path,
      examples,
      options: o,
    }));
  }

  /** METHOD 1c: target's residual stream after layer L replaced by the source's. */
  activationPatching(target: string, source: string, probeSetId: string, options: AnalysisRequestOptions = {}): Promise<RunHandle> {
    const call = { service: 'analyses', method: 'activationPatching', args: [target, source, probeSetId, options] };
    return this.start(call, ANALYSES.ACTIVATION_PATCHING, [['target', target], ['source', source]], probeSetId, options, 'any', ([t, s], examples, o) => ({
      targetDir: t!.row.path,
      sourceDir: s!.row.path,
      examples,
      options: o,
    }));
  }

  private async model(role: string, id: string): Promise<Model> {
    const [row] = await this.warehouse.getCheckpoints([id]);
    if (!row) throw new UnknownCheckpoint(id, role);
    const fresh = await this.checkpoints.refresh(row);
    try {
      return { row: fresh, config: parseModelConfig(fresh.config) };
    } catch (err) {
      throw new InvalidArgument(role, `${role} checkpoint '${id}' cannot be run by the engine: ${(err as Error).message}`);
    }
  }

  private async start<I>(
    call: RunRequest,
    spec: AnalysisKind<I>,
    roles: [string, string][],
    probeSetId: string,
    request: AnalysisRequestOptions,
    needs: 'pairs' | 'images' | 'any',
    buildInput: (models: Model[], examples: ResolvedExample[], options: AnalysisOptions) => I,
  ): Promise<RunHandle> {
    const models: Model[] = [];
    for (const [role, id] of roles) models.push(await this.model(role, id));
    const numLayers = models[0]!.config.numLayers;
    for (const m of models) {
      if ((needs === 'pairs' || needs === 'images') && !m.config.vision) throw new InvalidArgument('model', `checkpoint '${m.row.id}' is text-only; this analysis needs a vision-language model`);
    }
    const chatTemplate = (await Promise.all(models.map((m) => hasChatTemplate(m.row.path)))).every(Boolean);
    // checked before the probe set is read, so a bad option is refused without reading it
    resolveAnalysisOptions(request, numLayers, undefined, chatTemplate);
    const { row: probeRow, set } = await this.probeSets.load(probeSetId);
    const options = resolveAnalysisOptions(request, numLayers, probeRow.format, chatTemplate);
    const textOnly = models.some((m) => !m.config.vision);
    const examples = this.select(set.examples.map((e) => ({ ...e, targetImagePath: imagePath(set.root, e.images.target), sourceImagePath: imagePath(set.root, e.images.source) })), request, needs, textOnly);
    const params = {
      layers: options.layers,
      tasks: request.tasks ? [...request.tasks].sort() : null,
      split: request.split ?? null,
      maxExamples: request.maxExamples ?? null,
      scoring: options.scoring,
      maxNewTokens: options.maxNewTokens,
      batchSize: options.batchSize,
      bootstrapSamples: options.bootstrapSamples,
      seed: options.seed,
      chat: options.chat,
    };
    return this.runs.startOrJoin<AnalysisResult>({
      kind: spec.kind,
      params,
      inputs: [
        ...roles.map(([role], i) => ({ role, id: models[i]!.row.id, fingerprint: models[i]!.row.fingerprint })),
        { role: 'probeSet', id: probeRow.id, fingerprint: probeRow.fingerprint },
      ],
      // every unit names the files it reads, so a remote worker can check it has the same ones
      plan: async () => spec.plan(buildInput(models, examples, options), [
        ...roles.map(([role], i) => ({ role, path: models[i]!.row.path, fingerprint: models[i]!.row.fingerprint })),
        { role: 'probeSet', path: probeRow.root, fingerprint: probeRow.fingerprint },
      ]),
      request: call,
      store: (warehouse, runId, result) => warehouse.completeAnalysisRun(runId, result),
    });
  }

  private select(all: ResolvedExample[], r: AnalysisRequestOptions, needs: 'pairs' | 'images' | 'any', textOnly: boolean): ResolvedExample[] {
    const tasks = new Set(all.map((e) => e.task));
    for (const t of r.tasks ?? []) if (!tasks.has(t as never)) throw new InvalidArgument('options.tasks', `task '${t}' is not in the probe set (it has ${[...tasks].join(', ')})`);
    const splits = new Set(all.map((e) => e.split));
    if (r.split && !splits.has(r.split)) throw new InvalidArgument('options.split', `split '${r.split}' is not in the probe set (it has ${[...splits].join(', ')})`);
    const maxExamples = r.maxExamples == null ? Infinity : intIn(r.maxExamples, 0, 1, 1_000_000, 'maxExamples');
    const perTask = new Map<string, number>();
    const chosen = [...all]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .filter((e) => (!r.tasks?.length || r.tasks.includes(e.task)) && (!r.split || e.split === r.split))
      .filter((e) => (needs === 'pairs' ? e.sourceImagePath !== null && e.answers.source !== null : needs === 'images' ? e.targetImagePath !== null : true))
      // a text-only model answers only the questions without a picture
      .filter((e) => !textOnly || e.targetImagePath === null)
      .filter((e) => {
        const n = perTask.get(e.task) ?? 0;
        perTask.set(e.task, n + 1);
        return n < maxExamples;
      });
    if (chosen.length === 0) {
      const what = needs === 'pairs' ? 'target/source image pairs' : needs === 'images' ? 'examples with an image' : textOnly ? 'examples without an image (the model is text-only)' : 'examples';
      throw new InvalidArgument('probeSet', `the selection holds no ${what}`);
    }
    return chosen;
  }
}
