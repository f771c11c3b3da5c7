/**
 * The uniform shape every probe-set format is read into. Paths are relative
 * to the set's root with '/' separators, so a copied folder reads the same.
 */

/** Tasks with a scoring rule (see docs/probe-sets.md, "Scoring"). */
export const PROBE_TASKS = ['counting', 'ocr', 'grounding', 'recognition', 'numeric', 'math', 'free'] as const;
export type ProbeTask = (typeof PROBE_TASKS)[number];

/** The four tasks of the reference's visual-token-swap pairs. */
export const REFERENCE_TASKS: readonly ProbeTask[] = ['counting', 'ocr', 'grounding', 'recognition'];

/** Which reader produced a set; the names the warehouse stores and the API answers. */
export const PROBE_SET_FORMATS = ['reference', 'jsonl', 'gsm8k', 'math500'] as const;
export type ProbeSetFormat = (typeof PROBE_SET_FORMATS)[number];

/** A box [x1, y1, x2, y2] in the image's pixel coordinates. */
export type BoundingBox = [number, number, number, number];

/** A gold answer: text for every task but grounding, a box for grounding. */
export type ProbeAnswer = string | BoundingBox;

/** One image file: where it is (relative to the root) and what it holds. */
export interface ProbeImage {
  /** relative to the probe set's root, '/'-separated */
  path: string;
  /** sha256 (hex) of the file's bytes */
  sha256: string;
}

/** One question. Pairs (reference format) fill both target and source. */
export interface ProbeExample {
  id: string;
  task: ProbeTask;
  /** evaluation split; the reference format has none and uses `REFERENCE_SPLIT` */
  split: string;
  /** verbatim: may or may not hold one `<image>` marker */
  prompt: string;
  images: {
    /** the image asked about; null for text-only questions */
    target: ProbeImage | null;
    /** the swap source of a pair; null otherwise */
    source: ProbeImage | null;
  };
  answers: {
    target: ProbeAnswer;
    /** the source image's gold answer for pairs; null otherwise */
    source: ProbeAnswer | null;
  };
  /** a text description of the image (alignment setting); null when absent */
  description: string | null;
  tags: string[];
  /** everything else the file carried (the reference's `meta` object as is) */
  meta: Record<string, unknown>;
}

/** The problems an example may be left out for (`skipInvalidExamples`); every other problem refuses the whole set. */
export const SKIPPABLE_PROBLEMS = ['BAD_IMAGE', 'MISSING_IMAGE'] as const;
export type SkippableProblem = (typeof SKIPPABLE_PROBLEMS)[number];

/** An example of the file that is not in the set, and why. */
export interface SkippedExample {
  id: string;
  code: SkippableProblem;
  /** which image field and file (relative to the root) and what is wrong with it; never the file's bytes */
  reason: string;
}

/** A loaded, validated probe set. */
export interface ProbeSet {
  format: ProbeSetFormat;
  /** absolute path of the root folder */
  root: string;
  name?: string;
  /** sha256 (hex) of the content: examples and image bytes, not where they lie */
  fingerprint: string;
  examples: ProbeExample[];
  /** examples of the file left out because an image could not be used, by id; empty for a complete set */
  skipped: SkippedExample[];
}

/** The split given to every example of the reference format. */
export const REFERENCE_SPLIT = 'pairs';

/** An example with the file and 1-based line it came from (for error messages). */
export interface LocatedExample {
  file: string;
  line: number;
  example: ProbeExample;
}
