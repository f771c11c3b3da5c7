/**
 * Registering checkpoints: path allow-list, validation of every safetensors
 * header, content fingerprint (cached by path, size and mtime in the
 * warehouse), and the rows the warehouse keeps about the checkpoint.
 */
import { basename, relative } from 'node:path';
import { Checkpoint } from '../engine/checkpoint/index.js';
import { countBlocks, placeTensor } from '../engine/layout.js';
import type { CheckpointRow, Warehouse } from '../warehouse/index.js';
import { directoryStamp } from './file-stamps.js';
import { resolveAllowedPath } from './path-guard.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,127}$/;

/** Thrown for a name that cannot serve as a checkpoint id. */
export class InvalidCheckpointName extends Error {
  constructor(readonly checkpointName: string) {
    super(`checkpoint name '${checkpointName}' is invalid: use 1-128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit`);
    this.name = 'InvalidCheckpointName';
  }
}

function architectureOf(config: Record<string, unknown>): string {
  if (typeof config.model_type === 'string') return config.model_type;
  const archs = config.architectures;
  if (Array.isArray(archs) && typeof archs[0] === 'string') return archs[0];
  return 'unknown';
}

/** An id derived from a path: characters outside the id alphabet become '_'. */
export function defaultId(path: string): string {
  const id = path.replace(/[^A-Za-z0-9._\/-]/g, '_').slice(0, 128);
  return /^[A-Za-z0-9]/.test(id) ? id : `m${id}`.slice(0, 128);
}

export class CheckpointRegistry {
  constructor(private readonly warehouse: Warehouse, private readonly roots: readonly string[]) {}

  /**
   * Validates and registers the checkpoint directory at `path` under `name`
   * (default: its path relative to the model root, e.g. 'demo/base').
   * Registering an existing name again replaces that entry.
   */
  async register(path: string, name?: string | null): Promise<CheckpointRow> {
    const { real, root } = await resolveAllowedPath(path, this.roots);
    const id = name ?? defaultId(relative(root, real) || basename(real));
    if (!ID_PATTERN.test(id)) throw new InvalidCheckpointName(id);
    // every file, not just the folder, must stay inside the roots: a symlinked shard could lead anywhere
    const checkpoint = await Checkpoint.open(real, { roots: this.roots });
    try {
      const fingerprint = await checkpoint.fingerprint(this.warehouse.fingerprintCache());
      const names = [...checkpoint.tensors.keys()];
      const blocks = countBlocks(names);
      const config = checkpoint.config;
      const textConfig = (config.text_config as Record<string, unknown> | undefined) ?? config;
      const declaredLayers = textConfig.num_hidden_layers;
      const row: CheckpointRow = {
        id,
        name: id,
        path: real,
        fingerprint,
        architecture: architectureOf(config),
        numLayers: typeof declaredLayers === 'number' ? declaredLayers : blocks.llmLayers,
        numVisionLayers: blocks.visionBlocks,
        parameterCount: checkpoint.parameterCount(),
        dtype: checkpoint.dominantDtype(),
        config,
      };
      await this.warehouse.registerCheckpoint(
        row,
        [...checkpoint.tensors.values()].map((t) => {
          const placement = placeTensor(t.name, blocks.visionBlocks);
          return { name: t.name, dtype: t.dtype, shape: t.shape, layerIndex: placement.layerIndex, section: placement.section, component: placement.component };
        }),
      );
      return row;
    } finally {
      await checkpoint.close();
    }
  }

  /** Per checkpoint id: the row last found current, and the stamp of its files then. */
  private readonly verified = new Map<string, { row: CheckpointRow; stamp: string; files: string[] }>();

  /**
   * Re-reads a registered checkpoint's fingerprint so cached results never
   * survive an edit of the files. When no file of the checkpoint's
   * directory changed (path, size, mtime, ctime, inode: file-stamps.ts)
   * since its fingerprint was last found current, nothing is read.
   */
  async refresh(row: CheckpointRow): Promise<CheckpointRow> {
    const known = this.verified.get(row.id);
    if (known && known.row.path === row.path && known.row.fingerprint === row.fingerprint && directoryStamp(row.path, known.files) === known.stamp) return row;
    const opening = directoryStamp(row.path);
    const checkpoint = await Checkpoint.open(row.path);
    try {
      const files = [...new Set([...checkpoint.tensors.values()].map((t) => t.file))];
      const before = directoryStamp(row.path, files);
      const fingerprint = await checkpoint.fingerprint(this.warehouse.fingerprintCache());
      if (fingerprint === row.fingerprint) {
        // remembered only when nothing changed while the checkpoint was read
        const unchanged = before !== undefined && directoryStamp(row.path) === opening && directoryStamp(row.path, files) === before;
        if (unchanged) this.verified.set(row.id, { row, stamp: before, files });
        return row;
      }
    } finally {
      await checkpoint.close();
    }
    this.verified.delete(row.id);
    return this.register(row.path, row.id);
  }
}
