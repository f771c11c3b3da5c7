/**
 * Registering probe sets: path allow-list, all-or-nothing validation by the
 * engine's reader, content fingerprint, and the rows the warehouse keeps.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import { loadProbeSet } from '../engine/probes/index.js';
import type { ProbeSet } from '../engine/probes/types.js';
import type { ProbeSetRow, Warehouse } from '../warehouse/index.js';
import { InvalidArgument } from './errors.js';
import { resolveAllowedPath } from './path-guard.js';
import { defaultId } from './checkpoint-registry.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,127}$/;

/** A registered probe set whose files no longer match what was registered. */
export class ProbeSetChanged extends Error {
  constructor(readonly probeSetId: string) {
    super(`probe set '${probeSetId}' changed on disk since it was registered; register it again (registerProbeSet) to use the new content`);
    this.name = 'ProbeSetChanged';
  }
}

export class UnknownProbeSet extends Error {
  constructor(readonly probeSetId: string) {
    super(`probe set '${probeSetId}' is not registered (see the 'probeSets' query or registerProbeSet)`);
    this.name = 'UnknownProbeSet';
  }
}

export class ProbeSetRegistry {
  constructor(private readonly warehouse: Warehouse, private readonly roots: readonly string[]) {}

  /** Reads, validates and stores a probe set under `name` (default: its path relative to the root). */
  async register(path: string, name?: string | null): Promise<ProbeSetRow> {
    const { real, root } = await resolveAllowedPath(path, this.roots);
    const id = name ?? defaultId((relative(root, real) || basename(real)).replace(/\.jsonl$/, ''));
    if (!ID_PATTERN.test(id)) throw new InvalidArgument('name', `probe set name '${id}' is invalid: use 1-128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit`);
    // decoding every image now means a bad file is refused before anything is stored, not at each analysis
    const set = await loadProbeSet(real, { name: id, roots: this.roots, decodeImages: true });
    await this.warehouse.upsertProbeSet({
      id,
      name: id,
      format: set.format,
      // the path as registered (a folder or one .jsonl file), so load() reads the same files
      root: real,
      fingerprint: set.fingerprint,
      examples: set.examples.map((e) => ({
        id: e.id,
        task: e.task,
        split: e.split,
        prompt: e.prompt,
        images: e.images,
        answers: e.answers,
        description: e.description,
        tags: e.tags,
        meta: e.meta,
      })),
    });
    const [row] = await this.warehouse.getProbeSets([id]);
    return row!;
  }

  /** The registered set read back from disk, refusing it if its content changed. */
  async load(id: string): Promise<{ row: ProbeSetRow; set: ProbeSet }> {
    const [row] = await this.warehouse.getProbeSets([id]);
    if (!row) throw new UnknownProbeSet(id);
    // the set's own folder was checked at registration (demo sets are registered outside the configured roots)
    const own = row.root.endsWith('.jsonl') ? dirname(row.root) : row.root;
    const set = await loadProbeSet(row.root, { format: row.format, name: row.name, roots: [...this.roots, own] });
    if (set.fingerprint !== row.fingerprint) throw new ProbeSetChanged(id);
    return { row, set };
  }
}

/** Absolute path of an image stored relative to a probe set's root. */
export function imagePath(root: string, image: { path: string } | null): string | null {
  return image ? resolve(root, image.path) : null;
}
