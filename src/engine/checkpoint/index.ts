/** Checkpoint reading and writing: the only door to safetensors files. */
export { Checkpoint, CONFIG_FILE, INDEX_FILE } from './Checkpoint.js';
export { CheckpointError, type CheckpointErrorCode } from './CheckpointError.js';
export type { FingerprintCache } from './fingerprint.js';
export { fileCacheKey } from './fingerprint.js';
export { elementCount, writeSafetensors, type TensorInfo, type TensorToWrite } from './safetensors.js';
export { DTYPE_BYTES, type FloatDtype, type StorableDtype } from './dtypes.js';
