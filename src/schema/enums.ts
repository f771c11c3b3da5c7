import { registerEnumType } from 'type-graphql';

/** Sections of the unified layer index (METHOD.md). */
export enum Section {
  VISION = 'vision',
  PROJECTOR = 'projector',
  LLM = 'llm',
  OTHER = 'other',
}

export enum Component {
  ATTENTION = 'attention',
  MLP = 'mlp',
  OTHER = 'other',
}

/** Thirds of the LLM layers, cut by `layerCuts`. */
export enum Region {
  EARLY = 'early',
  MIDDLE = 'middle',
  LATE = 'late',
}

export enum RunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  DONE = 'DONE',
  FAILED = 'FAILED',
}

registerEnumType(Section, { name: 'Section', description: 'vision blocks (negative index), projector (0), language model (positive), other' });
registerEnumType(Component, { name: 'Component', description: 'attention, MLP, or other tensors of a block' });
registerEnumType(Region, { name: 'Region', description: 'early / middle / late thirds of the LLM layers' });
registerEnumType(RunStatus, { name: 'RunStatus' });

export enum LocalizationMethod {
  VISUAL_TOKEN_SWAP = 'VISUAL_TOKEN_SWAP',
  ZERO_ABLATION = 'ZERO_ABLATION',
}

export enum ScoringMode {
  GENERATE = 'GENERATE',
  TEACHER_FORCED = 'TEACHER_FORCED',
}

registerEnumType(LocalizationMethod, {
  name: 'LocalizationMethod',
  description: 'VISUAL_TOKEN_SWAP: swap visual-token keys/values with the source image at every layer >= L (METHOD 1a); ZERO_ABLATION: replace layer L by the identity (METHOD 1b)',
});
registerEnumType(ScoringMode, {
  name: 'ScoringMode',
  description: 'GENERATE: greedy generation with answer normalisation; TEACHER_FORCED: log-probability and exact match of the gold answer tokens in one pass',
});
