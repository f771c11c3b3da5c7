/** Every rule a probe file can break; one code each so callers can tell them apart. */
export type ProbeSetErrorCode =
  /** the path given does not exist */
  | 'NOT_FOUND'
  /** a folder with neither probes.jsonl, data.jsonl nor task subfolders holding data.jsonl */
  | 'NOT_A_PROBE_SET'
  /** a line that is not JSON, or JSON that is not an object */
  | 'BAD_JSON'
  /** a required field (id, prompt, image, meta, split, ...) is absent */
  | 'MISSING_FIELD'
  /** a field has the wrong type or an unusable value */
  | 'BAD_FIELD'
  | 'UNKNOWN_TASK'
  /** the gold answer field(s) the task needs are absent */
  | 'MISSING_ANSWER'
  /** the gold answer is present but unusable (a count with no integer, a box without 4 numbers, ...) */
  | 'BAD_ANSWER'
  | 'DUPLICATE_ID'
  | 'EMPTY_SET'
  /** a prompt with more than one `<image>` marker */
  | 'TOO_MANY_IMAGE_MARKERS'
  /** a text-only example whose prompt holds `<image>` */
  | 'IMAGE_MARKER_WITHOUT_IMAGE'
  /** an image path that points to no readable file */
  | 'MISSING_IMAGE'
  /** an absolute image path, or one that leaves the set's folder */
  | 'IMAGE_OUTSIDE_ROOT'
  /** an image file that is not a PNG or JPEG the model's decoder can read */
  | 'BAD_IMAGE';

/** Where a problem sits: the file, its 1-based line, the example id when known. */
export interface ProbeSetErrorLocation {
  file?: string;
  line?: number;
  exampleId?: string;
}

/** A probe file that cannot be used as it is. Nothing of it is loaded. */
export class ProbeSetError extends Error {
  override readonly name = 'ProbeSetError';
  readonly file?: string;
  readonly line?: number;
  readonly exampleId?: string;

  constructor(
    readonly code: ProbeSetErrorCode,
    detail: string,
    where: ProbeSetErrorLocation = {},
  ) {
    super(`${describeLocation(where)}${detail}`);
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.exampleId !== undefined) this.exampleId = where.exampleId;
  }
}

function describeLocation(where: ProbeSetErrorLocation): string {
  if (where.file === undefined) return where.exampleId === undefined ? '' : `example '${where.exampleId}': `;
  const line = where.line === undefined ? '' : `:${where.line}`;
  const id = where.exampleId === undefined ? '' : ` (example '${where.exampleId}')`;
  return `${where.file}${line}${id}: `;
}
