/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Options shared by the functional analyses (localization, attention shift, activation patching). */
export type AnalysisOptions = {
  /** examples run together (default 8) */
  batchSize?: number | null | undefined;
  /** bootstrap resamples for the 95% intervals (default 1000) */
  bootstrapSamples?: number | null | undefined;
  /** wrap each prompt in the model's chat template as one user turn, as the reference scripts' apply_chat_template (default: true when the model ships a chat template, as hub instruct models do; false otherwise, e.g. the demo models) */
  chat?: boolean | null | undefined;
  /** unified LLM layer indices to intervene at (1..L); default all */
  layers?: Array<number> | null | undefined;
  /** at most this many examples per task (first by id); default all */
  maxExamples?: number | null | undefined;
  /** greedy generation budget, 1 to 4096 (default by the probe set's format: 512 for gsm8k, 1024 for math500, else 128; generation stops at end-of-text) */
  maxNewTokens?: number | null | undefined;
  /** default GENERATE */
  scoring?: ScoringMode | null | undefined;
  /** seed of the bootstrap (default 0) */
  seed?: number | null | undefined;
  /** only this split of the probe set */
  split?: string | null | undefined;
  /** only these tasks of the probe set */
  tasks?: Array<string> | null | undefined;
};

/** Options of the update characterization. */
export type CharacterizationOptions = {
  /** region cuts over 0-based LLM layers: [8, 20] means 0-7 | 8-19 | 20-N (default floor(N/3), floor(2N/3)) */
  layerCuts?: Array<number> | null | undefined;
  /** singular values kept per tensor, and k of log volume and subspace overlap (default 50) */
  topK?: number | null | undefined;
  /** keep only tensors whose name contains this text, e.g. 'down_proj' */
  weightFilter?: string | null | undefined;
};

/** attention, MLP, or other tensors of a block */
export type Component =
  | 'ATTENTION'
  | 'MLP'
  | 'OTHER';

/** VISUAL_TOKEN_SWAP: swap visual-token keys/values with the source image at every layer >= L (METHOD 1a); ZERO_ABLATION: replace layer L by the identity (METHOD 1b) */
export type LocalizationMethod =
  | 'VISUAL_TOKEN_SWAP'
  | 'ZERO_ABLATION';

/** early / middle / late thirds of the LLM layers */
export type Region =
  | 'EARLY'
  | 'LATE'
  | 'MIDDLE';

export type RunStatus =
  | 'DONE'
  | 'FAILED'
  | 'QUEUED'
  | 'RUNNING';

/** GENERATE: greedy generation with answer normalisation; TEACHER_FORCED: log-probability and exact match of the gold answer tokens in one pass */
export type ScoringMode =
  | 'GENERATE'
  | 'TEACHER_FORCED';

/** vision blocks (negative index), projector (0), language model (positive), other */
export type Section =
  | 'LLM'
  | 'OTHER'
  | 'PROJECTOR'
  | 'VISION';

/** METHOD §3: PERCEPTION image vs black image; ALIGNMENT image vs black image + text description; REASONING the question as posed (its own image if it has one, no description) */
export type Setting =
  | 'ALIGNMENT'
  | 'PERCEPTION'
  | 'REASONING';

/** the reference's region splices over thirds (layerCuts): e.g. IN_EARLY__RL_MIDDLE_LATE = IN early 1/3 + RL late 2/3; every other tensor from IN */
export type SplicePreset =
  | 'IN_EARLY_MIDDLE__RL_LATE'
  | 'IN_EARLY__RL_MIDDLE_LATE'
  | 'IN_EARLY__RL_MIDDLE__IN_LATE'
  | 'RL_EARLY_MIDDLE__IN_LATE'
  | 'RL_EARLY__IN_MIDDLE_LATE'
  | 'RL_EARLY__IN_MIDDLE__RL_LATE';

/** Exactly one of: 'model' (a registered checkpoint), 'preset' with 'sft' and 'rl' (a region splice), 'recipe' (a merge recipe, docs/merging.md) or 'recipeYaml' (a mergekit config). */
export type VariantRecipeInput = {
  /** region cuts of a preset over 0-based LLM layers (default floor(N/3), floor(2N/3)) */
  layerCuts?: Array<number> | null | undefined;
  model?: string | number | null | undefined;
  preset?: SplicePreset | null | undefined;
  /** a full merge recipe: { base, donors, operations, seed?, label? } */
  recipe?: unknown;
  /** a mergekit YAML config (merge_method, models or slices, base_model, parameters, dtype) whose model names are registered checkpoint ids (docs/merging.md, 'mergekit configs') */
  recipeYaml?: string | null | undefined;
  /** RL model of a preset */
  rl?: string | number | null | undefined;
  /** IN (cold start) model of a preset */
  sft?: string | number | null | undefined;
};

export type CatalogQueryVariables = Exact<{ [key: string]: never; }>;


export type CatalogQuery = { checkpoints: Array<{ id: string, name: string, architecture: string, dtype: string, numLayers: number, numVisionLayers: number, parameterCount: number }>, probeSets: Array<{ id: string, name: string, format: string, exampleCount: number, skippedCount: number, tasks: Array<string>, splits: Array<string> }> };

export type LayerStatsFragment = { froNorm: number, froNormSum: number | null, relativeNorm: number, spectralNorm: number, nuclearNorm: number, stableRank: number, effectiveRank: number, conditionNumber: number, logVolume: number };

export type CharacterizationLayersQueryVariables = Exact<{
  base: string | number;
  sft: string | number;
  rl: string | number;
  options?: CharacterizationOptions | null | undefined;
}>;


export type CharacterizationLayersQuery = { characterization: { status: RunStatus, progress: number, run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }, layers: Array<{ index: number, section: Section, region: Region | null, tensorCount: number, cosine: number | null, subspaceOverlap: number | null, sft: { froNorm: number, froNormSum: number | null, relativeNorm: number, spectralNorm: number, nuclearNorm: number, stableRank: number, effectiveRank: number, conditionNumber: number, logVolume: number }, rl: { froNorm: number, froNormSum: number | null, relativeNorm: number, spectralNorm: number, nuclearNorm: number, stableRank: number, effectiveRank: number, conditionNumber: number, logVolume: number } }> } };

export type CharacterizationTensorNamesQueryVariables = Exact<{
  base: string | number;
  sft: string | number;
  rl: string | number;
  options?: CharacterizationOptions | null | undefined;
  after?: string | null | undefined;
}>;


export type CharacterizationTensorNamesQuery = { characterization: { status: RunStatus, tensors: Array<{ name: string, index: number | null, section: Section, component: Component, shape: Array<number> }> } };

export type TensorSpectraQueryVariables = Exact<{
  base: string | number;
  sft: string | number;
  rl: string | number;
  options?: CharacterizationOptions | null | undefined;
  section?: Section | null | undefined;
  layer?: number | null | undefined;
}>;


export type TensorSpectraQuery = { characterization: { status: RunStatus, tensors: Array<{ name: string, index: number | null, section: Section, component: Component, shape: Array<number>, cosine: number | null, subspaceOverlap: number | null, sft: { spectralNorm: number, effectiveRank: number, singularValues: Array<number> }, rl: { spectralNorm: number, effectiveRank: number, singularValues: Array<number> } }> } };

export type EffectFragment = { index: number | null, section: Section | null, task: string, metric: string, value: number, ciLow: number | null, ciHigh: number | null, n: number };

export type LocalizationQueryVariables = Exact<{
  model: string | number;
  probeSet: string | number;
  method: LocalizationMethod;
  options?: AnalysisOptions | null | undefined;
}>;


export type LocalizationQuery = { localization: { status: RunStatus, progress: number, run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }, layers: Array<{ index: number | null, section: Section | null, task: string, metric: string, value: number, ciLow: number | null, ciHigh: number | null, n: number }> } };

export type AttentionShiftQueryVariables = Exact<{
  a: string | number;
  b: string | number;
  probeSet: string | number;
  options?: AnalysisOptions | null | undefined;
}>;


export type AttentionShiftQuery = { attentionShift: { status: RunStatus, progress: number, run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }, layers: Array<{ index: number | null, section: Section | null, task: string, metric: string, value: number, ciLow: number | null, ciHigh: number | null, n: number }> } };

export type ActivationPatchingQueryVariables = Exact<{
  target: string | number;
  source: string | number;
  probeSet: string | number;
  options?: AnalysisOptions | null | undefined;
}>;


export type ActivationPatchingQuery = { activationPatching: { status: RunStatus, progress: number, run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }, layers: Array<{ index: number | null, section: Section | null, task: string, metric: string, value: number, ciLow: number | null, ciHigh: number | null, n: number }> } };

export type NecessityQueryVariables = Exact<{
  sft: string | number;
  rl: string | number;
  frozen: Array<string | number> | string | number;
  probeSet: string | number;
  layerCuts?: Array<number> | number | null | undefined;
  options?: AnalysisOptions | null | undefined;
}>;


export type NecessityQuery = { necessity: { status: string, progress: number, runs: Array<{ id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }>, rows: Array<{ variant: string, kind: string, region: string | null, setting: Setting, condition: string, accuracy: number | null, ciLow: number | null, ciHigh: number | null, n: number, gainOverIn: number | null, shareOfRlGain: number | null }> } };

export type RunFieldsFragment = { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null };

export type RunStatusQueryVariables = Exact<{
  id: string | number;
}>;


export type RunStatusQuery = { run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null } | null };

export type CancelRunMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelRunMutation = { cancelRun: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null } };

export type ConditionFragment = { condition: string, task: string, accuracy: number | null, ciLow: number | null, ciHigh: number | null, n: number };

export type TransitionFragment = { task: string, conditionA: string, conditionB: string, n: number, nTT: number, nTF: number, nFT: number, nFF: number, delta: number | null, deltaCiLow: number | null, deltaCiHigh: number | null, netGain: number, sideEffectRate: number | null, liftRate: number | null, mcnemarP: number };

export type TransferabilityQueryVariables = Exact<{
  sft: string | number;
  rl: string | number;
  probeSet: string | number;
  layerCuts?: Array<number> | number | null | undefined;
  options?: AnalysisOptions | null | undefined;
}>;


export type TransferabilityQuery = { transferability: { status: string, progress: number, runs: Array<{ id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }>, rows: Array<{ variant: string, setting: Setting, fingerprint: string, runId: string, conditions: Array<{ condition: string, task: string, accuracy: number | null, ciLow: number | null, ciHigh: number | null, n: number }>, transition: { task: string, conditionA: string, conditionB: string, n: number, nTT: number, nTF: number, nFT: number, nFF: number, delta: number | null, deltaCiLow: number | null, deltaCiHigh: number | null, netGain: number, sideEffectRate: number | null, liftRate: number | null, mcnemarP: number } | null }> } };

export type VariantScoresQueryVariables = Exact<{
  recipe: VariantRecipeInput;
  probeSet: string | number;
  setting: Setting;
  options?: AnalysisOptions | null | undefined;
}>;


export type VariantScoresQuery = { variant: { fingerprint: string, label: string, models: Array<string>, recipe: unknown, scores: { status: RunStatus, progress: number, run: { id: string, kind: string, status: RunStatus, progress: number, message: string | null, error: string | null, startedAt: string | null, finishedAt: string | null }, conditions: Array<{ condition: string, task: string, accuracy: number | null, ciLow: number | null, ciHigh: number | null, n: number }>, transitions: Array<{ task: string, conditionA: string, conditionB: string, n: number, nTT: number, nTF: number, nFT: number, nFF: number, delta: number | null, deltaCiLow: number | null, deltaCiHigh: number | null, netGain: number, sideEffectRate: number | null, liftRate: number | null, mcnemarP: number }> } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const LayerStatsFragmentDoc = new TypedDocumentString(`
    fragment LayerStats on UpdateStats {
  froNorm
  froNormSum
  relativeNorm
  spectralNorm
  nuclearNorm
  stableRank
  effectiveRank
  conditionNumber
  logVolume
}
    `, {"fragmentName":"LayerStats"}) as unknown as TypedDocumentString<LayerStatsFragment, unknown>;
export const EffectFragmentDoc = new TypedDocumentString(`
    fragment Effect on LayerEffect {
  index
  section
  task
  metric
  value
  ciLow
  ciHigh
  n
}
    `, {"fragmentName":"Effect"}) as unknown as TypedDocumentString<EffectFragment, unknown>;
export const RunFieldsFragmentDoc = new TypedDocumentString(`
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}
    `, {"fragmentName":"RunFields"}) as unknown as TypedDocumentString<RunFieldsFragment, unknown>;
export const ConditionFragmentDoc = new TypedDocumentString(`
    fragment Condition on ConditionScore {
  condition
  task
  accuracy
  ciLow
  ciHigh
  n
}
    `, {"fragmentName":"Condition"}) as unknown as TypedDocumentString<ConditionFragment, unknown>;
export const TransitionFragmentDoc = new TypedDocumentString(`
    fragment Transition on ConditionTransition {
  task
  conditionA
  conditionB
  n
  nTT
  nTF
  nFT
  nFF
  delta
  deltaCiLow
  deltaCiHigh
  netGain
  sideEffectRate
  liftRate
  mcnemarP
}
    `, {"fragmentName":"Transition"}) as unknown as TypedDocumentString<TransitionFragment, unknown>;
export const CatalogDocument = new TypedDocumentString(`
    query Catalog {
  checkpoints {
    id
    name
    architecture
    dtype
    numLayers
    numVisionLayers
    parameterCount
  }
  probeSets {
    id
    name
    format
    exampleCount
    skippedCount
    tasks
    splits
  }
}
    `) as unknown as TypedDocumentString<CatalogQuery, CatalogQueryVariables>;
export const CharacterizationLayersDocument = new TypedDocumentString(`
    query CharacterizationLayers($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions) {
  characterization(
    base: $base
    sft: $sft
    rl: $rl
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    run {
      ...RunFields
    }
    layers {
      index
      section
      region
      tensorCount
      cosine
      subspaceOverlap
      sft {
        ...LayerStats
      }
      rl {
        ...LayerStats
      }
    }
  }
}
    fragment LayerStats on UpdateStats {
  froNorm
  froNormSum
  relativeNorm
  spectralNorm
  nuclearNorm
  stableRank
  effectiveRank
  conditionNumber
  logVolume
}
fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<CharacterizationLayersQuery, CharacterizationLayersQueryVariables>;
export const CharacterizationTensorNamesDocument = new TypedDocumentString(`
    query CharacterizationTensorNames($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $after: String) {
  characterization(
    base: $base
    sft: $sft
    rl: $rl
    options: $options
    waitSeconds: 0
  ) {
    status
    tensors(first: 1000, after: $after) {
      name
      index
      section
      component
      shape
    }
  }
}
    `) as unknown as TypedDocumentString<CharacterizationTensorNamesQuery, CharacterizationTensorNamesQueryVariables>;
export const TensorSpectraDocument = new TypedDocumentString(`
    query TensorSpectra($base: ID!, $sft: ID!, $rl: ID!, $options: CharacterizationOptions, $section: Section, $layer: Int) {
  characterization(
    base: $base
    sft: $sft
    rl: $rl
    options: $options
    waitSeconds: 0
  ) {
    status
    tensors(section: $section, layer: $layer, first: 1000) {
      name
      index
      section
      component
      shape
      cosine
      subspaceOverlap
      sft {
        spectralNorm
        effectiveRank
        singularValues
      }
      rl {
        spectralNorm
        effectiveRank
        singularValues
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TensorSpectraQuery, TensorSpectraQueryVariables>;
export const LocalizationDocument = new TypedDocumentString(`
    query Localization($model: ID!, $probeSet: ID!, $method: LocalizationMethod!, $options: AnalysisOptions) {
  localization(
    model: $model
    probeSet: $probeSet
    method: $method
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    run {
      ...RunFields
    }
    layers {
      ...Effect
    }
  }
}
    fragment Effect on LayerEffect {
  index
  section
  task
  metric
  value
  ciLow
  ciHigh
  n
}
fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<LocalizationQuery, LocalizationQueryVariables>;
export const AttentionShiftDocument = new TypedDocumentString(`
    query AttentionShift($a: ID!, $b: ID!, $probeSet: ID!, $options: AnalysisOptions) {
  attentionShift(
    a: $a
    b: $b
    probeSet: $probeSet
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    run {
      ...RunFields
    }
    layers {
      ...Effect
    }
  }
}
    fragment Effect on LayerEffect {
  index
  section
  task
  metric
  value
  ciLow
  ciHigh
  n
}
fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<AttentionShiftQuery, AttentionShiftQueryVariables>;
export const ActivationPatchingDocument = new TypedDocumentString(`
    query ActivationPatching($target: ID!, $source: ID!, $probeSet: ID!, $options: AnalysisOptions) {
  activationPatching(
    target: $target
    source: $source
    probeSet: $probeSet
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    run {
      ...RunFields
    }
    layers {
      ...Effect
    }
  }
}
    fragment Effect on LayerEffect {
  index
  section
  task
  metric
  value
  ciLow
  ciHigh
  n
}
fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<ActivationPatchingQuery, ActivationPatchingQueryVariables>;
export const NecessityDocument = new TypedDocumentString(`
    query Necessity($sft: ID!, $rl: ID!, $frozen: [ID!]!, $probeSet: ID!, $layerCuts: [Int!], $options: AnalysisOptions) {
  necessity(
    sft: $sft
    rl: $rl
    frozen: $frozen
    probeSet: $probeSet
    layerCuts: $layerCuts
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    runs {
      ...RunFields
    }
    rows {
      variant
      kind
      region
      setting
      condition
      accuracy
      ciLow
      ciHigh
      n
      gainOverIn
      shareOfRlGain
    }
  }
}
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<NecessityQuery, NecessityQueryVariables>;
export const RunStatusDocument = new TypedDocumentString(`
    query RunStatus($id: ID!) {
  run(id: $id) {
    ...RunFields
  }
}
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<RunStatusQuery, RunStatusQueryVariables>;
export const CancelRunDocument = new TypedDocumentString(`
    mutation CancelRun($id: ID!) {
  cancelRun(id: $id) {
    ...RunFields
  }
}
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}`) as unknown as TypedDocumentString<CancelRunMutation, CancelRunMutationVariables>;
export const TransferabilityDocument = new TypedDocumentString(`
    query Transferability($sft: ID!, $rl: ID!, $probeSet: ID!, $layerCuts: [Int!], $options: AnalysisOptions) {
  transferability(
    sft: $sft
    rl: $rl
    probeSet: $probeSet
    layerCuts: $layerCuts
    options: $options
    waitSeconds: 0
  ) {
    status
    progress
    runs {
      ...RunFields
    }
    rows {
      variant
      setting
      fingerprint
      runId
      conditions {
        ...Condition
      }
      transition {
        ...Transition
      }
    }
  }
}
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}
fragment Condition on ConditionScore {
  condition
  task
  accuracy
  ciLow
  ciHigh
  n
}
fragment Transition on ConditionTransition {
  task
  conditionA
  conditionB
  n
  nTT
  nTF
  nFT
  nFF
  delta
  deltaCiLow
  deltaCiHigh
  netGain
  sideEffectRate
  liftRate
  mcnemarP
}`) as unknown as TypedDocumentString<TransferabilityQuery, TransferabilityQueryVariables>;
export const VariantScoresDocument = new TypedDocumentString(`
    query VariantScores($recipe: VariantRecipeInput!, $probeSet: ID!, $setting: Setting!, $options: AnalysisOptions) {
  variant(recipe: $recipe) {
    fingerprint
    label
    models
    recipe
    scores(
      probeSet: $probeSet
      setting: $setting
      options: $options
      waitSeconds: 0
    ) {
      status
      progress
      run {
        ...RunFields
      }
      conditions {
        ...Condition
      }
      transitions {
        ...Transition
      }
    }
  }
}
    fragment RunFields on Run {
  id
  kind
  status
  progress
  message
  error
  startedAt
  finishedAt
}
fragment Condition on ConditionScore {
  condition
  task
  accuracy
  ciLow
  ciHigh
  n
}
fragment Transition on ConditionTransition {
  task
  conditionA
  conditionB
  n
  nTT
  nTF
  nFT
  nFF
  delta
  deltaCiLow
  deltaCiHigh
  netGain
  sideEffectRate
  liftRate
  mcnemarP
}`) as unknown as TypedDocumentString<VariantScoresQuery, VariantScoresQueryVariables>;