/**
 * Inputs and outputs of the functional analyses. Everything here crosses the
 * worker-thread boundary by structured clone, so it is plain data.
 */
import type { ProbeExample } from '../probes/types.js';

/** How answers are obtained. */
export type ScoringMode = 'generate' | 'teacher_forced';

/** Options shared by every functional analysis (defaults filled in by {@link resolveOptions}). */
export interface AnalysisOptions {
  /** 0-based LLM layers to intervene at */
  layers: number[];
  scoring: ScoringMode;
  maxNewTokens: number;
  batchSize: number;
  bootstrapSamples: number;
  seed: number;
  /** wrap each prompt in the model's chat template, as the reference scripts' apply_chat_template */
  chat: boolean;
}

/** A probe example whose image paths are absolute. */
export interface ResolvedExample extends ProbeExample {
  /** absolute paths of images.target / images.source (null when absent) */
  targetImagePath: string | null;
  sourceImagePath: string | null;
}

/** One per-layer number (a row of `layer_effects`). */
export interface LayerEffect {
  /** unified index (LLM layer l is l + 1); null for a baseline without intervention */
  layerIndex: number | null;
  section: 'llm' | null;
  task: string;
  metric: string;
  value: number | null;
  ciLow: number | null;
  ciHigh: number | null;
  n: number | null;
  extra: unknown;
}

/** One example under one condition (a row of `example_results`). */
export interface ExampleOutcome {
  layerIndex: number | null;
  exampleId: string;
  task: string;
  condition: string;
  answer: string | null;
  correct: boolean | null;
  changed: boolean | null;
  transferred: boolean | null;
  score: number | null;
  extra: unknown;
}

/** What every analysis returns. */
export interface AnalysisResult {
  layerEffects: LayerEffect[];
  exampleResults: ExampleOutcome[];
}

/** Progress posted by an analysis: work units done of the total. */
export interface AnalysisProgress {
  done: number;
  total: number;
  message: string;
}
