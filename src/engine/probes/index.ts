/** Probe sets: reading the reference pair format and frankenscope's JSONL format into one shape. */
export { loadProbeSet, type LoadProbeSetOptions } from './load.js';
export { ProbeSetError, type ProbeSetErrorCode, type ProbeSetErrorLocation } from './ProbeSetError.js';
export { probeSetFingerprint } from './fingerprint.js';
export { IMAGE_MARKER } from './fields.js';
export { JSONL_PROBES_FILE, DEFAULT_TASK } from './jsonl-format.js';
export { REFERENCE_DATA_FILE } from './reference-format.js';
export { REASONING_FILES, REASONING_INSTRUCTION, REASONING_SPLIT, detectReasoningFormat } from './reasoning-formats.js';
export {
  PROBE_SET_FORMATS,
  PROBE_TASKS,
  REFERENCE_SPLIT,
  REFERENCE_TASKS,
  SKIPPABLE_PROBLEMS,
  type BoundingBox,
  type ProbeAnswer,
  type ProbeExample,
  type ProbeImage,
  type ProbeSet,
  type ProbeSetFormat,
  type ProbeTask,
  type SkippableProblem,
  type SkippedExample,
} from './types.js';
