/**
 * A synthetic run cut into test units (test-unit.ts), stored as one layer
 * effect row per unit, for the queue, staging and resume tests.
 */
import { createHash } from 'node:crypto';
import type { RunSpec } from '../../../src/services/run-manager.js';
import { encodeUnitResult, type UnitInput, type UnitPlan, type WorkUnit } from '../../../src/engine/units/work-unit.js';
import type { TestUnitInput } from './test-unit.js';

export interface TestPlanOptions {
  units: number;
  /** values per unit result [64] */
  size?: number;
  /** per-unit sleep, ms [0] */
  sleepMs?: number;
  /** these unit indices always fail */
  poison?: number[];
  /** the units note 'start'/'done' lines here */
  logFile?: string;
  /** files every unit declares it reads (workers check their fingerprints) */
  inputs?: UnitInput[];
  /** distinguishes otherwise equal runs (it enters the cache key) */
  tag?: string;
}

export interface TestPlanResult {
  /** encodeUnitResult of the unit results in plan order: equal bytes mean equal results, every bit */
  bytes: Buffer;
}

export const TEST_UNIT_MODULE = new URL('./test-unit.ts', import.meta.url).href;

export function testPlanUnits(options: TestPlanOptions): WorkUnit[] {
  return Array.from({ length: options.units }, (_, index) => {
    const input: TestUnitInput = {
      index,
      size: options.size ?? 64,
      sleepMs: options.sleepMs,
      failWith: options.poison?.includes(index) ? `unit ${index} is poison` : undefined,
      logFile: options.logFile,
    };
    return { index, module: TEST_UNIT_MODULE, exportName: 'testUnit', input, inputs: options.inputs ?? [], label: `test unit ${index}` };
  });
}

export function testPlanSpec(options: TestPlanOptions, onStored?: (result: TestPlanResult) => void): RunSpec<TestPlanResult> {
  return {
    kind: 'test-units',
    params: { ...options },
    inputs: [],
    plan: async (): Promise<UnitPlan<TestPlanResult>> => ({
      units: testPlanUnits(options),
      combine: (results) => ({ bytes: encodeUnitResult(results) }),
    }),
    store: async (warehouse, runId, result) => {
      onStored?.(result);
      await warehouse.completeAnalysisRun(runId, {
        layerEffects: [{ layerIndex: null, section: null, task: 'all', metric: 'combined_sha256', value: null, ciLow: null, ciHigh: null, n: options.units, extra: { sha256: sha256(result.bytes) } }],
      });
    },
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
