/**
 * Every way a checkpoint directory or a safetensors file can be rejected.
 * One code per violated rule, so callers (and the GraphQL layer, which maps
 * all of them to `CHECKPOINT_INVALID` or `NOT_FOUND`) can tell them apart.
 */
export type CheckpointErrorCode =
  // directory level
  | 'DIR_NOT_FOUND'
  | 'NOT_A_DIRECTORY'
  | 'CONFIG_MISSING'
  | 'CONFIG_INVALID'
  | 'NO_SAFETENSORS'
  | 'DUPLICATE_TENSOR'
  | 'INDEX_INVALID'
  | 'INDEX_FILE_MISSING'
  | 'INDEX_TENSOR_MISSING'
  // safetensors file level
  | 'FILE_TOO_SMALL'
  | 'HEADER_TOO_LARGE'
  | 'HEADER_BEYOND_FILE'
  | 'HEADER_NOT_UTF8'
  | 'HEADER_INVALID_JSON'
  | 'HEADER_NOT_OBJECT'
  | 'METADATA_INVALID'
  | 'TENSOR_INFO_INVALID'
  | 'UNKNOWN_DTYPE'
  | 'INVALID_SHAPE'
  | 'INVALID_OFFSETS'
  | 'SIZE_MISMATCH'
  | 'OFFSETS_BEYOND_DATA'
  | 'TENSORS_OVERLAP'
  | 'TENSORS_GAP'
  | 'DATA_TRAILING'
  // use
  | 'TENSOR_NOT_FOUND'
  | 'UNSUPPORTED_DTYPE'
  | 'FILE_CHANGED'
  | 'CLOSED';

/** A checkpoint (directory, index or safetensors file) that cannot be used as it is. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly code: CheckpointErrorCode;
  /** absolute path of the offending file, when one file is to blame */
  readonly file?: string;
  /** the offending tensor, when one tensor is to blame */
  readonly tensor?: string;

  constructor(code: CheckpointErrorCode, message: string, where: { file?: string; tensor?: string } = {}) {
    super(message);
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.tensor !== undefined) this.tensor = where.tensor;
  }
}
