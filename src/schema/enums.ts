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
