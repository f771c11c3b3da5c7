/**
 * Wires the services shared by the server and the CLI: warehouse, checkpoint
 * registry, run manager and the model worker thread that computes every
 * analysis's work units.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { lakeRoot, type AppConfig } from './config.js';
import type { AppServices } from './resolvers/context.js';
import { CharacterizationService } from './services/characterization-service.js';
import { CheckpointRegistry } from './services/checkpoint-registry.js';
import { RunManager } from './services/run-manager.js';
import { AnalysisService } from './services/analysis-service.js';
import { ProbeSetRegistry } from './services/probe-set-registry.js';
import { VariantService } from './services/variant-service.js';
import { ModelWorker } from './engine/runtime/model-worker.js';
import { Warehouse } from './warehouse/index.js';
import { ENGINE_VERSION } from './engine/version.js';
import { InProcessExecutor } from './services/units/in-process-executor.js';
import type { UnitExecutor } from './services/units/unit-executor.js';
import { QueueExecutor } from './queue/queue-executor.js';
import { PACKAGE_ROOT } from './config.js';

export interface App {
  services: AppServices;
  /** stops the worker thread and closes the warehouse */
  close(): Promise<void>;
}

/** The trained demo models (npm run demo:train), registered as demo/<name> when present. */
export const DEMO_MODELS = ['base', 'sft', 'rl', 'rl-freeze-early', 'rl-freeze-middle', 'rl-freeze-late'] as const;
/** The held-out probe world written by npm run demo:train: reference-format pairs and the probes.jsonl splits. */
export const DEMO_PROBE_SETS = { 'world/pairs': 'demo/pairs', 'world/probes': 'demo/questions' } as const;

export async function createApp(config: AppConfig, options: { registerDemo?: boolean } = {}): Promise<App> {
  const lake = lakeRoot(config);
  const warehouse = await Warehouse.open(config.warehousePath, lake ? { lake: { root: lake } } : {});
  const registry = new CheckpointRegistry(warehouse, config.modelRoots);
  let modelWorker: Promise<ModelWorker> | undefined;
  const probeSets = new ProbeSetRegistry(warehouse, config.modelRoots);
  const modelWorkerHandle = () => {
    // a worker that died (crash, out of memory) is replaced on the next request
    modelWorker ??= ModelWorker.create({ threads: config.engineThreads, background: config.backgroundAnalyses }).then(
      (w) => {
        w.onExit(() => (modelWorker = undefined));
        return w;
      },
      (err: unknown) => {
        modelWorker = undefined;
        throw err;
      },
    );
    return modelWorker;
  };
  // the units of runs given as plans go to queue workers when a queue is configured, else to this process's model worker (the embedded default)
  const executor: UnitExecutor = config.redisUrl
    ? new QueueExecutor({ redisUrl: config.redisUrl, packageRoot: PACKAGE_ROOT })
    : new InProcessExecutor(modelWorkerHandle);
  const runs = new RunManager(warehouse, ENGINE_VERSION, executor);
  const characterizations = new CharacterizationService(warehouse, registry, runs);
  const analyses = new AnalysisService(warehouse, registry, probeSets, runs);
  const variants = new VariantService(warehouse, registry, probeSets, runs, modelWorkerHandle, config.modelRoots);
  const services: AppServices = { warehouse, registry, runs, characterizations, probeSets, analyses, variants };
  if (options.registerDemo ?? true) {
    // the shipped demo is registered whatever FRANKENSCOPE_MODEL_ROOTS says
    const demoRegistry = new CheckpointRegistry(warehouse, [...config.modelRoots, config.demoDir]);
    for (const model of DEMO_MODELS) {
      const dir = join(config.demoDir, model);
      if (!existsSync(join(dir, 'config.json'))) continue;
      try {
        await demoRegistry.register(dir, `demo/${model}`);
      } catch (err) {
        console.warn(`[frankenscope] demo checkpoint ${dir} not registered: ${(err as Error).message}`);
      }
    }
    const demoProbes = new ProbeSetRegistry(warehouse, [...config.modelRoots, config.demoProbesDir]);
    for (const [folder, id] of Object.entries(DEMO_PROBE_SETS)) {
      const dir = join(config.demoProbesDir, folder);
      if (!existsSync(dir)) continue;
      try {
        await demoProbes.register(dir, id);
      } catch (err) {
        console.warn(`[frankenscope] demo probe set ${dir} not registered: ${(err as Error).message}`);
      }
    }
  }
  return {
    services,
    async close() {
      try {
        await Promise.allSettled([modelWorker?.then((w) => w.release()), executor.close?.()]);
      } finally {
        // the lake's queued writes end first: a CLI command closes right after its run is queued, and closeSync would abandon it
        await warehouse.lakeSettled();
        warehouse.closeSync();
      }
    },
  };
}
