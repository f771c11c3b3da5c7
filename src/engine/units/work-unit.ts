/**
 * Work units: the pieces a run is cut into. A unit's result is a pure
 * function of its description (module, export, input), so it may be computed
 * in this process, in another process or on another machine and give the
 * same bits; the cut itself is deterministic, so a run computed in one
 * process and a run spread over workers combine the same unit results.
 */
import { deserialize, serialize } from 'node:v8';

/** The files a unit reads, with the content fingerprint they must have. */
export interface UnitInput {
  role: string;
  /** absolute path of a checkpoint directory or probe-set folder */
  path: string;
  fingerprint: string;
}

/** One deterministic piece of a run, run by the model worker's job protocol. */
export interface WorkUnit {
  /** position in the plan, 0-based; results are combined in this order */
  index: number;
  /** href of the engine module the worker imports */
  module: string;
  /** the exported `(input, context) => Promise<result>` to call */
  exportName: string;
  /** plain JSON data (absolute paths, examples, options restricted to this unit) */
  input: unknown;
  /** what the unit reads; a worker refuses a unit whose fingerprints it cannot match */
  inputs: UnitInput[];
  /** what the unit covers, for progress messages, e.g. 'layers 1-7 x examples 1-16' */
  label: string;
}

/** A run cut into units, and how their results become the run's result. */
export interface UnitPlan<R> {
  units: WorkUnit[];
  /** results[i] is units[i]'s result; must not depend on where or in which order they were computed */
  combine(results: unknown[]): R | Promise<R>;
}

/**
 * A unit result as bytes that round-trip exactly (structured clone: NaN,
 * -0, typed arrays and every float64 bit kept, which JSON would not).
 */
export function encodeUnitResult(value: unknown): Buffer {
  return serialize(value);
}

export function decodeUnitResult(bytes: Uint8Array): unknown {
  return deserialize(bytes);
}
