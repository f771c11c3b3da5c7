/**
 * The characterization cut into work units: consecutive ranges of the
 * planned tensors (sorted by name), each computed by the model worker's job
 * protocol like every other analysis. A tensor's metrics depend on that
 * tensor alone, so any cut gives the same rows; the cut is still fixed
 * (TENSORS_PER_UNIT; tests cut finer or not at all) so that a unit's identity
 * never depends on the workers.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { Checkpoint } from '../checkpoint/index.js';
import { SpectralSolver } from '../linalg/spectral-solver.js';
import type { JobContext } from '../runtime/job-protocol.js';
import type { UnitInput, UnitPlan, WorkUnit } from '../units/work-unit.js';
import type { TensorUpdate } from './aggregate.js';
import {
  characterizeTensor,
  checkTopK,
  placementContext,
  plannedTensors,
  summarizeCharacterization,
  type CharacterizationResult,
  type TensorPlacementContext,
} from './characterize.js';

/** Tensors per unit: on a 7B model a tensor's two spectra take a few seconds, so a unit about a minute. */
export const TENSORS_PER_UNIT = 16;

type Role = 'base' | 'sft' | 'rl';
const ROLES: readonly Role[] = ['base', 'sft', 'rl'];

export interface CharacterizeUnitInput {
  dirs: Record<Role, string>;
  /** the unit's tensors, in plan order */
  tensors: string[];
  /** where they sit in the plan, for progress messages: the first one's 0-based position, and the plan's tensor count */
  position: { first: number; of: number };
  topK: number;
  placement: TensorPlacementContext;
}

export interface CharacterizationRequest {
  /** absolute checkpoint directories with their content fingerprints */
  trio: Record<Role, { path: string; fingerprint: string }>;
  topK?: number;
  weightFilter?: string | null;
  layerCuts?: readonly number[] | null;
}

/** One solver per worker thread, created on the first unit, with the worker's intra-op thread count. */
let solver: Promise<SpectralSolver> | undefined;
function workerSolver(): Promise<SpectralSolver> {
  const threads = isMainThread ? undefined : (workerData as { threads?: number } | undefined)?.threads;
  solver ??= SpectralSolver.create({ threads: threads ?? 2 }).catch((err: unknown) => {
    solver = undefined;
    throw err;
  });
  return solver;
}

/** One unit: the update metrics of its tensors, in order. Stops between tensors when cancelled. */
export async function characterizeUnit(input: CharacterizeUnitInput, context: JobContext): Promise<TensorUpdate[]> {
  const spectra = await workerSolver();
  const opened: Checkpoint[] = [];
  try {
    for (const role of ROLES) opened.push(await Checkpoint.open(input.dirs[role]));
    const [base, sft, rl] = opened as [Checkpoint, Checkpoint, Checkpoint];
    const out: TensorUpdate[] = [];
    for (const [i, name] of input.tensors.entries()) {
      await context.checkCancelled();
      out.push(await characterizeTensor({ base, sft, rl }, spectra, name, input.topK, input.placement));
      context.progress({ done: i + 1, total: input.tensors.length, message: `${input.position.first + i + 1}/${input.position.of} ${name}` });
    }
    return out;
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
}

/**
 * Reads the three checkpoints' headers (TrioMismatchError when they differ)
 * and cuts the planned tensors into units; combine aggregates them as one pass would.
 */
export async function planCharacterization(request: CharacterizationRequest, tensorsPerUnit = TENSORS_PER_UNIT): Promise<UnitPlan<CharacterizationResult>> {
  if (!(tensorsPerUnit >= 1)) throw new RangeError(`'tensorsPerUnit' must be at least 1, got ${tensorsPerUnit}`);
  const topK = checkTopK(request.topK);
  const opened: Checkpoint[] = [];
  let names: string[];
  let placement: TensorPlacementContext;
  try {
    for (const role of ROLES) opened.push(await Checkpoint.open(request.trio[role].path));
    const [base, sft, rl] = opened as [Checkpoint, Checkpoint, Checkpoint];
    names = plannedTensors(base, sft, rl, request.weightFilter);
    placement = placementContext(sft, request.layerCuts);
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
  const files: UnitInput[] = ROLES.map((role) => ({ role, path: request.trio[role].path, fingerprint: request.trio[role].fingerprint }));
  const dirs = Object.fromEntries(ROLES.map((r) => [r, request.trio[r].path])) as Record<Role, string>;
  const units: WorkUnit[] = [];
  for (let start = 0; start < names.length; start += tensorsPerUnit) {
    const tensors = names.slice(start, start + tensorsPerUnit);
    units.push({
      index: units.length,
      module: import.meta.url,
      exportName: 'characterizeUnit',
      input: { dirs, tensors, position: { first: start, of: names.length }, topK, placement: { visionBlocks: placement.visionBlocks, cuts: [...placement.cuts] } } satisfies CharacterizeUnitInput,
      inputs: files.map((f) => ({ ...f })),
      label: `tensors ${start + 1}-${start + tensors.length} of ${names.length}`,
    });
  }
  const applied = { weightFilter: request.weightFilter ?? null, topK, layerCuts: placement.cuts };
  return {
    units,
    combine: (results) => summarizeCharacterization(units.flatMap((unit, i) => {
      const r = results[i];
      const wanted = (unit.input as CharacterizeUnitInput).tensors;
      if (!Array.isArray(r) || r.length !== wanted.length) throw new Error(`the result of unit ${i} (${unit.label}) holds ${Array.isArray(r) ? r.length : 'no'} tensors, not ${wanted.length}`);
      return r as TensorUpdate[];
    }), { ...applied, layerCuts: [...applied.layerCuts] }),
  };
}
