/**
 * A worker's check that it reads the very files a unit was planned on: each
 * input's content fingerprint must match, at the coordinator's path or in a
 * folder of the worker's own model roots (then the unit's paths are
 * rewritten to it). Fingerprints are remembered per path until a file stamp
 * anywhere in the folder changes (file-stamps.ts), so a checkpoint is hashed
 * once per worker.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Checkpoint, CONFIG_FILE } from '../engine/checkpoint/index.js';
import { loadProbeSet } from '../engine/probes/index.js';
import type { UnitInput } from '../engine/units/work-unit.js';
import { directoryStamp } from '../services/file-stamps.js';

/** How deep under a model root folders are searched for a matching input. */
const SEARCH_DEPTH = 3;

export class InputMismatch extends Error {
  constructor(readonly input: UnitInput, roots: readonly string[]) {
    super(
      `no copy of input '${input.role}' (${input.path}, fingerprint ${input.fingerprint.slice(0, 16)}…) with that fingerprint ` +
        `at that path or under this worker's model roots (${roots.join(', ') || 'none'})`,
    );
    this.name = 'InputMismatch';
  }
}

export class InputVerifier {
  readonly #known = new Map<string, { stamp: string; fingerprint: string | undefined }>();
  readonly #digests = new Map<string, string>();

  constructor(private readonly roots: readonly string[]) {}

  /** The unit's input with every path of `inputs` replaced by where this worker holds the same content. */
  async localize(input: unknown, inputs: readonly UnitInput[]): Promise<unknown> {
    const moves = new Map<string, string>();
    for (const wanted of inputs) {
      const found = await this.#find(wanted);
      if (!found) throw new InputMismatch(wanted, this.roots);
      if (found !== wanted.path) moves.set(wanted.path, found);
    }
    return moves.size === 0 ? input : rewritePaths(input, moves);
  }

  async #find(wanted: UnitInput): Promise<string | undefined> {
    if ((await this.fingerprintOf(wanted.path)) === wanted.fingerprint) return wanted.path;
    for (const candidate of this.#candidates()) {
      if ((await this.fingerprintOf(candidate)) === wanted.fingerprint) return candidate;
    }
    return undefined;
  }

  *#candidates(): Generator<string> {
    const walk = function* (dir: string, depth: number): Generator<string> {
      yield dir;
      if (depth === 0) return;
      let names: string[];
      try {
        names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      } catch {
        return;
      }
      for (const name of names) yield* walk(join(dir, name), depth - 1);
    };
    for (const root of this.roots) yield* walk(resolve(root), SEARCH_DEPTH);
  }

  /** The content fingerprint of a checkpoint folder or probe set at `path`, undefined when it is neither. */
  async fingerprintOf(path: string): Promise<string | undefined> {
    const stamp = treeStamp(path);
    if (stamp === undefined) return undefined;
    const known = this.#known.get(path);
    if (known && known.stamp === stamp) return known.fingerprint;
    const fingerprint = await this.#compute(path);
    // kept only if nothing changed while it was read
    if (treeStamp(path) === stamp) this.#known.set(path, { stamp, fingerprint });
    return fingerprint;
  }

  async #compute(path: string): Promise<string | undefined> {
    try {
      if (existsSync(join(path, CONFIG_FILE))) {
        const checkpoint = await Checkpoint.open(path);
        try {
          return await checkpoint.fingerprint({
            get: async (key) => this.#digests.get(key),
            set: async (key, value) => void this.#digests.set(key, value),
          });
        } finally {
          await checkpoint.close();
        }
      }
      // as registration with skipInvalidExamples: the examples whose images do not decode are left out and
      // named in the fingerprint, so a set registered either way is matched (and one that broke since is not)
      return (await loadProbeSet(path, { decodeImages: true, skipInvalidExamples: true })).fingerprint;
    } catch {
      return undefined;
    }
  }
}

/** The stamps of a folder and every folder below it (a probe set keeps its images in subfolders). */
function treeStamp(dir: string): string | undefined {
  const own = directoryStamp(dir);
  if (own === undefined) return undefined;
  let subdirs: string[] = [];
  try {
    subdirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return undefined;
  }
  return [own, ...subdirs.map((name) => treeStamp(join(dir, name)) ?? `${join(dir, name)}|unreadable`)].join('\n');
}

/** Every string equal to a moved path, or below it, pointing at the new place instead. */
function rewritePaths(value: unknown, moves: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') {
    for (const [from, to] of moves) {
      if (value === from) return to;
      if (value.startsWith(`${from}/`)) return to + value.slice(from.length);
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => rewritePaths(v, moves));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewritePaths(v, moves)]));
  }
  return value;
}
