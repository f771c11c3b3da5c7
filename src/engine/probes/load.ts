import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { AllowedRoots } from '../fs/confined-files.js';
import { probeSetFingerprint } from './fingerprint.js';
import { ImageCatalog } from './images.js';
import { JSONL_PROBES_FILE, readJsonlProbes } from './jsonl-format.js';
import { readJsonl } from './jsonl-lines.js';
import { detectReasoningFormat, readReasoningRecords, REASONING_FILES } from './reasoning-formats.js';
import { ProbeSetError } from './ProbeSetError.js';
import { REFERENCE_DATA_FILE, readReferenceFiles, referenceDataFile } from './reference-format.js';
import type { LocatedExample, ProbeExample, ProbeSet, ProbeSetFormat, SkippedExample } from './types.js';

/** How to read a probe set. */
export interface LoadProbeSetOptions {
  /** force a format instead of detecting it from the files present */
  format?: ProbeSetFormat;
  /** display name; default the root folder's name */
  name?: string;
  /** every file read (JSONL and images) must resolve inside these [the set's root folder] */
  roots?: AllowedRoots;
  /** decode every image as the model will, refusing one that cannot be (BAD_IMAGE) [false: only hashed] */
  decodeImages?: boolean;
  /**
   * leave out the examples whose image (target or source) is missing or does
   * not decode, listing them in `skipped`, instead of refusing the set; every
   * other problem still refuses it [false]
   */
  skipInvalidExamples?: boolean;
  /**
   * examples left out when the set was registered: their images are not
   * read, and they are listed in `skipped` as given when the file still
   * holds them (so the fingerprint changes if it no longer does)
   */
  skipped?: readonly SkippedExample[];
}

/**
 * Loads and validates a probe set, all or nothing (but for the examples
 * `skipInvalidExamples` or `skipped` leave out). `path` may be
 * - a reference root (subfolders, one per task, each with data.jsonl),
 * - a single reference task folder (holding data.jsonl) or that data.jsonl,
 * - a folder holding probes.jsonl, or any other .jsonl file of our format,
 * - a GSM8K or MATH-500 folder (test.jsonl, else train.jsonl) or one of its
 *   files, told apart by the first line's keys.
 * @throws ProbeSetError with a code naming the broken rule, the file, line and example id
 * @throws FileAccessError when a file resolves outside `options.roots` or is not a regular file
 */
export async function loadProbeSet(path: string, options: LoadProbeSetOptions = {}): Promise<ProbeSet> {
  const located = await locate(resolve(path), options.format);
  const roots = options.roots ?? [located.root];
  const catalog = new ImageCatalog(located.root, roots, { decode: options.decodeImages ?? false });
  const read = await readLocated(located, roots, catalog);
  checkIds(read.examples, located.files, located.root);
  const before = new Map((options.skipped ?? []).map((s) => [s.id, s]));
  const problems = await catalog.hashAll({ ignore: new Set(before.keys()), skipInvalid: options.skipInvalidExamples ?? false });
  const skipped: SkippedExample[] = [];
  const examples: ProbeExample[] = [];
  for (const { example } of read.examples) {
    const earlier = before.get(example.id);
    const problem = problems.get(example.id);
    if (earlier) skipped.push({ id: earlier.id, code: earlier.code, reason: earlier.reason });
    else if (problem) skipped.push({ id: example.id, code: problem.code, reason: problem.reasons.join('; ') });
    else examples.push(example);
  }
  if (examples.length === 0) {
    const first = skipped[0]!;
    throw new ProbeSetError('EMPTY_SET', `no examples left: all ${skipped.length} have an image that cannot be used (first: '${first.id}': ${first.reason})`, { file: located.files[0] });
  }
  skipped.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    format: read.format,
    root: located.root,
    name: options.name ?? basename(located.root),
    fingerprint: probeSetFingerprint(examples, skipped.map((s) => s.id)),
    examples,
    skipped,
  };
}

interface Located {
  /** 'detect': a .jsonl file whose first line tells probes.jsonl, GSM8K and MATH-500 apart */
  format: ProbeSetFormat | 'detect';
  root: string;
  files: string[];
}

async function readLocated(located: Located, roots: AllowedRoots, catalog: ImageCatalog): Promise<{ format: ProbeSetFormat; examples: LocatedExample[] }> {
  const file = located.files[0]!;
  if (located.format === 'reference') return { format: 'reference', examples: await readReferenceFiles(located.files, roots, catalog) };
  if (located.format === 'jsonl') return { format: 'jsonl', examples: await readJsonlProbes(file, roots, catalog) };
  const records = await readJsonl(file, roots);
  const format = located.format === 'detect' ? (records.length > 0 ? detectReasoningFormat(records[0]!.value) : null) ?? 'jsonl' : located.format;
  if (format === 'jsonl') return { format, examples: await readJsonlProbes(file, roots, catalog) };
  return { format, examples: readReasoningRecords(format, file, records) };
}

async function locate(path: string, format: ProbeSetFormat | undefined): Promise<Located> {
  const kind = await kindOf(path);
  if (kind === 'missing') throw new ProbeSetError('NOT_FOUND', 'no such file or folder', { file: path });
  if (kind === 'file') {
    const detected = basename(path) === REFERENCE_DATA_FILE ? 'reference' : 'detect';
    return { format: format ?? detected, root: dirname(path), files: [path] };
  }
  const probes = join(path, JSONL_PROBES_FILE);
  if (format !== 'reference' && (await kindOf(probes)) === 'file') return { format: 'jsonl', root: path, files: [probes] };
  if (format !== 'jsonl') {
    const own = referenceDataFile(path);
    if ((await kindOf(own)) === 'file') return { format: 'reference', root: path, files: [own] };
    const entries = (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    // code-unit order, not locale order, so every machine reads the same sequence
    entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const files: string[] = [];
    for (const entry of entries) {
      const file = referenceDataFile(join(path, entry));
      if ((await kindOf(file)) === 'file') files.push(file);
    }
    if (files.length > 0) return { format: 'reference', root: path, files };
  }
  // a test.jsonl in the probes.jsonl format (detected so at registration) is found again when reloaded as 'jsonl'
  if (format !== 'reference') {
    // the evaluation split when the folder ships both; train.jsonl is registered by giving its path
    for (const name of REASONING_FILES) {
      const file = join(path, name);
      if ((await kindOf(file)) === 'file') return { format: format ?? 'detect', root: path, files: [file] };
    }
  }
  const wanted =
    format === 'jsonl'
      ? JSONL_PROBES_FILE
      : format === 'reference'
        ? `${REFERENCE_DATA_FILE} or task subfolders holding one`
        : format !== undefined
          ? REASONING_FILES.join(' or ')
          : `${JSONL_PROBES_FILE}, ${REFERENCE_DATA_FILE}, task subfolders holding ${REFERENCE_DATA_FILE}, or ${REASONING_FILES.join(' / ')} (GSM8K, MATH-500)`;
  throw new ProbeSetError('NOT_A_PROBE_SET', `the folder holds no ${wanted}`, { file: path });
}

async function kindOf(path: string): Promise<'file' | 'folder' | 'missing'> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

function checkIds(examples: readonly LocatedExample[], files: readonly string[], root: string): void {
  if (examples.length === 0) {
    const others = files.length > 1 ? ` (nor in ${files.slice(1).map((f) => relative(root, f)).join(', ')})` : '';
    throw new ProbeSetError('EMPTY_SET', `no examples${others}`, { file: files[0] });
  }
  const seen = new Map<string, LocatedExample>();
  for (const located of examples) {
    const id = located.example.id;
    const first = seen.get(id);
    if (first !== undefined) {
      const place = first.file === located.file ? `line ${first.line}` : `${first.file}:${first.line}`;
      throw new ProbeSetError('DUPLICATE_ID', `id '${id}' was already used at ${place}`, {
        file: located.file,
        line: located.line,
        exampleId: id,
      });
    }
    seen.set(id, located);
  }
}
