/** What every resolver receives: the app's services and per-request DataLoaders. */
import type { CheckpointRegistry } from '../services/checkpoint-registry.js';
import type { CharacterizationService } from '../services/characterization-service.js';
import type { AnalysisService } from '../services/analysis-service.js';
import type { ProbeSetRegistry } from '../services/probe-set-registry.js';
import type { VariantService } from '../services/variant-service.js';
import type { RunManager } from '../services/run-manager.js';
import type { Warehouse } from '../warehouse/index.js';
import { createLoaders, type Loaders } from './loaders.js';

export interface AppServices {
  warehouse: Warehouse;
  registry: CheckpointRegistry;
  runs: RunManager;
  characterizations: CharacterizationService;
  probeSets: ProbeSetRegistry;
  analyses: AnalysisService;
  variants: VariantService;
}

export interface RequestContext {
  services: AppServices;
  loaders: Loaders;
}

/** A fresh context per request, so DataLoader caches never outlive one request. */
export function createRequestContext(services: AppServices): RequestContext {
  return { services, loaders: createLoaders(services.warehouse) };
}
