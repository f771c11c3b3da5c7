/** What went wrong writing Parquet, as a stable machine-readable code. */
export type LakeErrorCode =
  /** `export --parquet DIR`: DIR exists and is not an empty folder */
  | 'EXPORT_TARGET_NOT_EMPTY'
  /** the export could not be written; nothing was left at the target */
  | 'EXPORT_FAILED';

/** An error of the Parquet lake or export; `code` says which contract was broken. */
export class LakeError extends Error {
  override readonly name = 'LakeError';

  constructor(
    readonly code: LakeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
