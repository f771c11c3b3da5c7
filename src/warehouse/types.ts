/**
 * Row types of the warehouse: camelCase here, snake_case in SQL
 * (docs/warehouse.md lists the columns).
 */

export type Section = 'vision' | 'projector' | 'llm' | 'other';
export type Component = 'attention' | 'mlp' | 'other';
export type Region = 'early' | 'middle' | 'late';
export type Phase = 'sft' | 'rl';
export type Grouping = 'section' | 'component' | 'region';
export type RunStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';

/** One registered checkpoint (table `checkpoints`). */
export interface CheckpointRow {
  /** slug such as 'demo/base' */
  id: string;
  name: string;
  path: string;
  fingerprint: string;
  architecture: string;
  numLayers: number;
  numVisionLayers: number;
  parameterCount: number;
  dtype: string;
  /** the parsed config.json; stored as JSON */
  config: unknown;
  /** when first registered; always set on rows read back, defaults to now on upsert */
  registeredAt?: Date;
}

/** One tensor of a checkpoint, keyed by the checkpoint's content fingerprint (table `tensors`). */
export interface TensorRow {
  name: string;
  dtype: string;
  shape: number[];
  layerIndex: number | null;
  section: Section;
  component: Component;
}

/** One analysis run (table `runs`). */
export interface RunRow {
  id: string;
  kind: string;
  params: unknown;
  inputs: unknown;
  cacheKey: string;
  status: RunStatus;
  /** 0..1 */
  progress: number;
  message: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  engineVersion: string;
  error: string | null;
}

/** The metrics shared by tensor, layer and group rows; a layer/group row holds their means. */
export interface DiffMetrics {
  froNorm: number;
  relativeNorm: number;
  spectralNorm: number;
  nuclearNorm: number;
  stableRank: number;
  effectiveRank: number;
  conditionNumber: number;
  logVolume: number;
  /** cosine(dSFT, dRL); the same on both phase rows */
  cosine: number | null;
  subspaceOverlap: number | null;
}

/** One run x tensor x phase (table `tensor_stats`). */
export interface TensorStatRow extends DiffMetrics {
  runId: string;
  tensorName: string;
  layerIndex: number | null;
  section: Section;
  component: Component;
  region: Region | null;
  shape: number[];
  phase: Phase;
  /** top-k singular values of the difference, descending */
  singularValues: number[];
}

/** One run x layer x phase (table `layer_stats`); metrics are means over the layer's tensors. */
export interface LayerStatRow extends DiffMetrics {
  runId: string;
  layerIndex: number;
  section: Section;
  region: Region | null;
  phase: Phase;
  nTensors: number;
  froNormSum: number;
  /** element-wise mean of the tensors' top-k lists */
  singularValues: number[];
}

/** One run x grouping x key x phase (table `group_stats`). */
export interface GroupStatRow extends DiffMetrics {
  runId: string;
  grouping: Grouping;
  groupKey: string;
  phase: Phase;
  nTensors: number;
  froNormSum: number;
  /** element-wise mean of the tensors' top-k lists */
  singularValues: number[];
}

/** Rows as the engine produces them: the run id is given by `completeRun`. */
export type WithoutRunId<T> = Omit<T, 'runId'>;

/** Everything one characterization run stores. */
export interface CharacterizationRows {
  tensors: readonly WithoutRunId<TensorStatRow>[];
  layers: readonly WithoutRunId<LayerStatRow>[];
  groups: readonly WithoutRunId<GroupStatRow>[];
}

/** A tensor_stats page request: keyset pagination on tensor_name. */
export interface TensorStatsQuery {
  runId: string;
  section?: Section;
  layerIndex?: number;
  /** how many tensors (each has one row per phase); default 100, at most 1000 */
  first?: number;
  /** the last tensor_name of the previous page */
  after?: string;
}

/** A result of the SQL door. Values are JSON-safe. */
export interface SqlResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** true when the query had more rows than maxRows */
  truncated: boolean;
}

/** How a probe set was read (see docs/probe-sets.md). */
/** The readers of src/engine/probes (docs/probe-sets.md); migration 4 added the reasoning formats. */
export type ProbeSetFormat = 'reference' | 'jsonl' | 'gsm8k' | 'math500';

/** One registered probe set (table `probe_sets`). */
export interface ProbeSetRow {
  /** slug such as 'demo/vision' */
  id: string;
  name: string;
  format: ProbeSetFormat;
  /** the root folder on the server */
  root: string;
  /** content hash; keys its rows in `examples` */
  fingerprint: string;
  nExamples: number;
  /** when first registered */
  registeredAt: Date;
  /** examples of the files left out at registration (an unusable image), by id; [] for a complete set */
  skipped: SkippedExampleRow[];
}

/** An example a probe set was registered without (column `probe_sets.skipped_examples`). */
export interface SkippedExampleRow {
  id: string;
  /** 'BAD_IMAGE' or 'MISSING_IMAGE' */
  code: string;
  /** which image and what is wrong with it */
  reason: string;
}

/** One example as the engine's probe reader yields it (images, answers and meta are stored as JSON). */
export interface NewProbeExample {
  id: string;
  task: string;
  split: string;
  prompt: string;
  images: unknown;
  answers: unknown;
  description: string | null;
  tags: readonly string[];
  meta: unknown;
}

/** What upsertProbeSet stores: a loaded probe set plus the id to register it under. */
export interface NewProbeSet {
  id: string;
  /** default: the id */
  name?: string;
  format: ProbeSetFormat;
  root: string;
  fingerprint: string;
  examples: readonly NewProbeExample[];
  /** examples left out of the files (their ids are part of the fingerprint); default none */
  skipped?: readonly SkippedExampleRow[];
  /** default now; a re-registration keeps the first */
  registeredAt?: Date;
}

/** One example of a probe set content (table `examples`). */
export interface ExampleRow {
  probeSetFingerprint: string;
  exampleId: string;
  task: string;
  split: string;
  prompt: string;
  images: unknown;
  answers: unknown;
  description: string | null;
  tags: string[];
  meta: unknown;
}

/** A page of examples: keyset pagination on example_id. */
export interface ExamplesQuery {
  split?: string;
  task?: string;
  /** default 100, at most 1000 */
  first?: number;
  /** the last example_id of the previous page */
  after?: string;
}

/** One run x layer x task x metric (table `layer_effects`); layerIndex null = not about one layer. */
export interface LayerEffectRow {
  runId: string;
  layerIndex: number | null;
  section: Section | null;
  /** a probe task, or 'all' for numbers over every task */
  task: string;
  /** e.g. 'change_rate', 'transfer_rate', 'accuracy', 'accuracy_drop' */
  metric: string;
  value: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  /** examples behind the value */
  n: number | null;
  extra: unknown;
}

/** One run x layer x example x condition (table `example_results`); layerIndex null = no intervention layer. */
export interface ExampleResultRow {
  runId: string;
  layerIndex: number | null;
  exampleId: string;
  task: string;
  /** e.g. 'clean', 'swap', 'ablate', 'image', 'black_image' */
  condition: string;
  answer: string | null;
  correct: boolean | null;
  changed: boolean | null;
  transferred: boolean | null;
  score: number | null;
  extra: unknown;
}

/** Everything one probing/transfer run stores (the run id is given by completeAnalysisRun). */
export interface AnalysisRows {
  layerEffects?: readonly WithoutRunId<LayerEffectRow>[];
  exampleResults?: readonly WithoutRunId<ExampleResultRow>[];
}

/** A page of example results; `first` counts examples, `after` is the last example_id seen. */
export interface ExampleResultsQuery {
  runId: string;
  /** a layer, null for the rows without a layer; undefined for all */
  layerIndex?: number | null;
  condition?: string;
  /** default 100, at most 1000 */
  first?: number;
  after?: string;
}
