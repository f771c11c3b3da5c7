import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { AllowedRoots } from '../fs/confined-files.js';
import { probeSetFingerprint } from './fingerprint.js';
import { ImageCatalog } from './images.js';
import { JSONL_PROBES_FILE, readJsonlProbes } from './jsonl-format.js';
import { ProbeSetError } from './ProbeSetError.js';
import { REFERENCE_DATA_FILE, readReferenceFiles, referenceDataFile } from './reference-format.js';
import type { LocatedExample, ProbeSet, ProbeSetFormat } from './types.js';

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
}

/**
 * Loads and validates a probe set, all or nothing. `path` may be
 * - a reference root (subfolders, one per task, each with data.jsonl),
 * - a single reference task folder (holding data.jsonl) or that data.jsonl,
 * - a folder holding probes.jsonl, or any other .jsonl file of our format.
 * @throws ProbeSetError with a code naming the broken rule, the file, line and example id
 * @throws FileAccessError when a file resolves outside `options.roots` or is not a regular file
 */
export async function loadProbeSet(path: string, options: LoadProbeSetOptions = {}): Promise<ProbeSet> {
  const located = await locate(resolve(path), options.format);
  const roots = options.roots ?? [located.root];
  const catalog = new ImageCatalog(located.root, roots, { decode: options.decodeImages ?? false });
  const read =
    located.format === 'reference'
      ? await readReferenceFiles(located.files, roots, catalog)
      : await readJsonlProbes(located.files[0]!, roots, catalog);
  checkIds(read, located.files, located.root);
  await catalog.hashAll();
  const examples = read.map((r) => r.example);
  return {
    format: located.format,
    root: located.root,
    name: options.name ?? basename(located.root),
    fingerprint: probeSetFingerprint(examples),
    examples,
  };
}

interface Located {
  format: ProbeSetFormat;
  root: string;
  files: string[];
}

async function locate(path: string, format: ProbeSetFormat | undefined): Promise<Located> {
  const kind = await kindOf(path);
  if (kind === 'missing') throw new ProbeSetError('NOT_FOUND', 'no such file or folder', { file: path });
  if (kind === 'file') {
    const detected: ProbeSetFormat = basename(path) === REFERENCE_DATA_FILE ? 'reference' : 'jsonl';
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
  const wanted =
    format === 'jsonl'
      ? JSONL_PROBES_FILE
      : format === 'reference'
        ? `${REFERENCE_DATA_FILE} or task subfolders holding one`
        : `${JSONL_PROBES_FILE}, ${REFERENCE_DATA_FILE}, or task subfolders holding ${REFERENCE_DATA_FILE}`;
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
