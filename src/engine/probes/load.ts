import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
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
}

/**
 * Loads and validates a probe set, all or nothing. `path` may be
 * - a reference root (subfolders, one per task, each with data.jsonl),
 * - a single reference task folder (holding data.jsonl) or that data.jsonl,
 * - a folder holding probes.jsonl, or any other .jsonl file of our format.
 * @throws ProbeSetError with a code naming the broken rule, the file, line and example id
 */
export async function loadProbeSet(path: string, options: LoadProbeSetOptions = {}): Promise<ProbeSet> {
  const located = await locate(resolve(path), options.format);
  const catalog = new ImageCatalog(located.root);
  const read =
    located.format === 'reference' ? await readReferenceFiles(located.files, catalog) : await readJsonlProbes(located.files[0]!, catalog);
  checkIds(read, located.files);
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
  if (kind === 'missing') throw new ProbeSetError('NOT_FOUND', `no such file or folder: ${path}`, { file: path });
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
  throw new ProbeSetError('NOT_A_PROBE_SET', `folder ${path} holds no ${wanted}`, { file: path });
}

async function kindOf(path: string): Promise<'file' | 'folder' | 'missing'> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

function checkIds(examples: readonly LocatedExample[], files: readonly string[]): void {
  if (examples.length === 0) {
    throw new ProbeSetError('EMPTY_SET', `no examples in ${files.join(', ')}`, { file: files[0] });
  }
  const seen = new Map<string, LocatedExample>();
  for (const located of examples) {
    const id = located.example.id;
    const first = seen.get(id);
    if (first !== undefined) {
      throw new ProbeSetError('DUPLICATE_ID', `id '${id}' was already used at ${first.file}:${first.line}`, {
        file: located.file,
        line: located.line,
        exampleId: id,
      });
    }
    seen.set(id, located);
  }
}
