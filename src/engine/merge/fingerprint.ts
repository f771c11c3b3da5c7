/**
 * Identity of a variant: sha256 of a canonical form of its recipe, so the
 * same variant is never scored twice. The canonical form fills every default,
 * replaces model ids by the models' content fingerprints, drops what does not
 * change the weights (label, donor list, the seed when no DARE operation uses
 * it, splices from a model identical to the base), writes splices as maximal
 * runs of layers, and sorts operations (they cover disjoint tensors, so order
 * is irrelevant). Object keys are sorted by the canonical JSON writer.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../probes/canonical-json.js';
import { type ResolvedOperation, resolveOperation } from './plan.js';
import { type ConditionalValue, type Gradient, type MergeRecipe, type ModelId, type Param, validateRecipe } from './recipe.js';

/** Versions the canonical form; bump it when the merge arithmetic changes. */
export const RECIPE_FINGERPRINT_VERSION = 'frankenscope-merge-recipe-v1';

/** Options of {@link recipeFingerprint}. */
export interface RecipeFingerprintOptions {
  /** content fingerprint of every model the recipe names */
  modelFingerprints: ReadonlyMap<ModelId, string> | Readonly<Record<ModelId, string>>;
  /** decoder layers of the models (fills the default layer range) */
  numLayers: number;
}

function canonicalGradient(g: Gradient): Gradient {
  if (typeof g === 'number') return g;
  return g.every((x) => x === g[0]) ? g[0]! : [...g];
}

function canonicalParam(p: Param): Param {
  if (typeof p === 'number' || typeof p[0] === 'number') return canonicalGradient(p as Gradient);
  const out: ConditionalValue[] = [];
  for (const c of p as ConditionalValue[]) {
    const unconditional = c.component === undefined && c.nameContains === undefined;
    if (unconditional && out.length === 0) return canonicalGradient(c.value);
    out.push({ ...c, value: canonicalGradient(c.value) });
    if (unconditional) break; // later branches are unreachable
  }
  return out;
}

type Cell = 'attention' | 'mlp' | 'other';
const CELLS: Record<ResolvedOperation['component'], readonly Cell[]> = { layer: ['attention', 'mlp', 'other'], attention: ['attention'], mlp: ['mlp'] };

/** Splices as per-layer cell owners, re-emitted as maximal runs (cells equal to the base dropped). */
function canonicalSplices(ops: readonly ResolvedOperation[], fp: (id: ModelId) => string, baseFp: string, numLayers: number): object[] {
  const cells = new Map<string, string>();
  let outside: string | undefined;
  for (const op of ops) {
    if (op.op !== 'splice') continue;
    const model = fp(op.model);
    for (let l = op.layers.from; l < op.layers.to; l++) for (const c of CELLS[op.component]) cells.set(`${l}:${c}`, model);
    if (op.scope === 'all') outside = model;
  }
  const out: object[] = [];
  const runs = new Map<string, { component: string; model: string; from: number; to: number }>();
  const flush = (key: string): void => {
    const r = runs.get(key);
    if (r) out.push({ op: 'splice', component: r.component, model: r.model, layers: { from: r.from, to: r.to } });
    runs.delete(key);
  };
  for (let l = 0; l <= numLayers; l++) {
    const own = (c: Cell): string | undefined => {
      const m = cells.get(`${l}:${c}`);
      return m === baseFp ? undefined : m;
    };
    const [a, m, o] = [own('attention'), own('mlp'), own('other')];
    const parts: { component: string; model: string }[] = [];
    if (l < numLayers) {
      if (a !== undefined && a === m && a === o) parts.push({ component: 'layer', model: a });
      else {
        if (a !== undefined) parts.push({ component: 'attention', model: a });
        if (m !== undefined) parts.push({ component: 'mlp', model: m });
        if (o !== undefined) parts.push({ component: 'other', model: o });
      }
    }
    const live = new Set(parts.map((p) => `${p.component}|${p.model}`));
    for (const key of [...runs.keys()]) if (!live.has(key)) flush(key);
    for (const p of parts) {
      const key = `${p.component}|${p.model}`;
      const r = runs.get(key);
      if (r) r.to = l + 1;
      else runs.set(key, { ...p, from: l, to: l + 1 });
    }
  }
  if (outside !== undefined && outside !== baseFp) out.push({ op: 'splice_outside', model: outside });
  return out;
}

function canonicalOperation(op: ResolvedOperation, fp: (id: ModelId) => string): object {
  const sel = { layers: op.layers, component: op.component, scope: op.scope };
  switch (op.op) {
    case 'splice':
      throw new Error('splices are canonicalized together');
    case 'interpolate':
      return { ...sel, op: op.op, base: fp(op.base), donor: fp(op.donor), alpha: canonicalParam(op.alpha) };
    case 'slerp':
      return { ...sel, op: op.op, base: fp(op.base), model: fp(op.model), t: canonicalParam(op.t), dotThreshold: op.dotThreshold };
    case 'linear':
      return { ...sel, op: op.op, normalize: op.normalize, models: op.models.map((m) => ({ model: fp(m.model), weight: canonicalParam(m.weight) })) };
    default:
      return {
        ...sel,
        op: op.op,
        base: fp(op.base),
        normalize: op.normalize,
        lambda: op.lambda,
        rescale: op.rescale,
        models: op.models.map((m) => ({ model: fp(m.model), weight: canonicalParam(m.weight), density: canonicalParam(m.density) })),
      };
  }
}

/**
 * The canonical form of a recipe (plain JSON), as hashed by {@link recipeFingerprint}.
 * @throws RecipeError for an invalid recipe; RangeError when a model has no fingerprint
 */
export function canonicalRecipe(recipe: MergeRecipe, options: RecipeFingerprintOptions): object {
  const valid = validateRecipe(recipe, options.numLayers);
  const table = options.modelFingerprints;
  const fp = (id: ModelId): string => {
    const f = table instanceof Map ? table.get(id) : (table as Readonly<Record<ModelId, string>>)[id];
    if (typeof f !== 'string' || f === '') throw new RangeError(`'modelFingerprints' has no fingerprint for model ${JSON.stringify(id)}`);
    return f;
  };
  const baseFp = fp(valid.base);
  const ops = valid.operations.map((op) => resolveOperation(op, valid, options.numLayers));
  const operations = [
    ...canonicalSplices(ops, fp, baseFp, options.numLayers),
    ...ops.filter((op) => op.op !== 'splice').map((op) => canonicalOperation(op, fp)),
  ]
    .map((o) => ({ o, key: canonicalJson(o) }))
    .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
    .map((x) => x.o);
  const usesSeed = ops.some((op) => op.op === 'dare_linear' || op.op === 'dare_ties');
  return { version: RECIPE_FINGERPRINT_VERSION, base: baseFp, operations, ...(usesSeed ? { seed: valid.seed ?? 0 } : {}) };
}

/** sha256 (hex) of the canonical JSON of {@link canonicalRecipe}. */
export function recipeFingerprint(recipe: MergeRecipe, options: RecipeFingerprintOptions): string {
  return createHash('sha256').update(canonicalJson(canonicalRecipe(recipe, options)), 'utf8').digest('hex');
}
