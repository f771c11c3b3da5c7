/**
 * The model families the engine runs, by config.json `model_type`. A family
 * reads its own config keys (and, for vision-language models, names its own
 * image processor); the runtime, the analyses and the merger see only the
 * parsed {@link ModelConfig}. A new family is a new folder here.
 */
import { ModelConfigError, type Json } from '../config-reader.js';
import type { ConfigCompanions, ModelConfig, ModelType } from '../config.js';
import { parseFrankenscopeVlConfig } from './frankenscope-vl/config.js';
import { parseQwen2Config } from './qwen2/config.js';
import { parseQwenVlConfig } from './qwen-vl/config.js';

export interface ModelFamily {
  modelType: ModelType;
  parseConfig(json: Json, companions: ConfigCompanions): ModelConfig;
}

const FAMILIES: readonly ModelFamily[] = [
  { modelType: 'qwen2', parseConfig: parseQwen2Config },
  { modelType: 'frankenscope_vl', parseConfig: parseFrankenscopeVlConfig },
  { modelType: 'qwen2_vl', parseConfig: (json, companions) => parseQwenVlConfig(json, 'qwen2_vl', companions) },
  { modelType: 'qwen2_5_vl', parseConfig: (json, companions) => parseQwenVlConfig(json, 'qwen2_5_vl', companions) },
];

/** The family of a `model_type`. @throws ModelConfigError for a type no family runs */
export function familyOf(modelType: unknown): ModelFamily {
  const family = FAMILIES.find((f) => f.modelType === modelType);
  if (!family) {
    throw new ModelConfigError('model_type', `config.json: 'model_type' ${JSON.stringify(modelType)} is not supported; the engine runs ${FAMILIES.map((f) => JSON.stringify(f.modelType)).join(', ')}`);
  }
  return family;
}
