/**
 * The merge recipe: plain JSON (structured-clone safe) describing a variant
 * composed from a base model and donors (docs/merging.md). Operations cover
 * disjoint parts of the model; every tensor no operation covers comes from the
 * base. {@link validateRecipe} checks a value field by field.
 */
import { RecipeError } from './errors.js';

/** A model id as the caller names it (resolved to a WeightSource and a content fingerprint elsewhere). */
export type ModelId = string;

/** Decoder layers `from <= l < to`. */
export interface LayerRange {
  from: number;
  to: number;
}

/** Which tensors of each selected decoder layer: all, the attention sub-block, or the MLP sub-block. */
export type Component = 'layer' | 'attention' | 'mlp';

/** `llm`: decoder layers only; `all`: also vision, projector, embeddings, final norm and head. */
export type Scope = 'llm' | 'all';

/** A scalar, or a gradient: values spread evenly over the operation's layers and interpolated linearly. */
export type Gradient = number | number[];

/** One branch of a conditional parameter; both conditions must hold when given (none: matches every tensor). */
export interface ConditionalValue {
  component?: 'attention' | 'mlp';
  nameContains?: string;
  value: Gradient;
}

/** A parameter: a gradient, or a list of conditional branches (first match wins; the last must be unconditional). */
export type Param = Gradient | ConditionalValue[];

interface Selection {
  /** decoder layers [all] */
  layers?: LayerRange;
  /** ['layer'] */
  component?: Component;
  /** ['llm'] */
  scope?: Scope;
}

/** Take the selected tensors from `model` unchanged (mergekit "passthrough"). */
export interface SpliceOp extends Selection {
  op: 'splice';
  model: ModelId;
  layers: LayerRange;
}

/** (1 - alpha) * base + alpha * donor on the selected tensors. */
export interface InterpolateOp extends Selection {
  op: 'interpolate';
  /** [the recipe's base] */
  base?: ModelId;
  donor: ModelId;
  alpha: Param;
  layers: LayerRange;
}

/** A model with its weight. */
export interface WeightedModel {
  model: ModelId;
  weight: Param;
}

/** A model with its weight and the fraction of its task vector kept. */
export interface SparseModel extends WeightedModel {
  /** in (0, 1] [1] */
  density?: Param;
}

/** Weighted average sum w_i x_i (divided by sum w_i when `normalize`, the default). */
export interface LinearOp extends Selection {
  op: 'linear';
  models: WeightedModel[];
  normalize?: boolean;
}

/** base + lambda * sum w_i (x_i - base) (divided by sum w_i when `normalize`; default false). */
export interface TaskArithmeticOp extends Selection {
  op: 'task_arithmetic';
  base?: ModelId;
  models: WeightedModel[];
  normalize?: boolean;
  /** [1] */
  lambda?: number;
}

/** TIES: magnitude trim, sign election, disjoint mean (`normalize` default true). */
export interface TiesOp extends Selection {
  op: 'ties';
  base?: ModelId;
  models: SparseModel[];
  normalize?: boolean;
  lambda?: number;
}

/** DARE: random drop (rate 1 - density) and rescale by 1/density; `dare_ties` adds the TIES sign consensus. */
export interface DareOp extends Selection {
  op: 'dare_linear' | 'dare_ties';
  base?: ModelId;
  models: SparseModel[];
  /** [false] */
  normalize?: boolean;
  /** divide kept entries by density [true] */
  rescale?: boolean;
  lambda?: number;
}

/** Spherical interpolation from base (t = 0) to `model` (t = 1), per tensor. */
export interface SlerpOp extends Selection {
  op: 'slerp';
  base?: ModelId;
  model: ModelId;
  t: Param;
  /** |cos| above this falls back to linear interpolation [0.9995, mergekit's] */
  dotThreshold?: number;
}

export type MergeOperation = SpliceOp | InterpolateOp | LinearOp | TaskArithmeticOp | TiesOp | DareOp | SlerpOp;
export type OperationKind = MergeOperation['op'];
export const OPERATION_KINDS: readonly OperationKind[] = ['splice', 'interpolate', 'linear', 'task_arithmetic', 'ties', 'dare_linear', 'dare_ties', 'slerp'];

/** A variant: base model, donors, and operations on disjoint parts of the model. */
export interface MergeRecipe {
  /** every tensor no operation covers comes from here */
  base: ModelId;
  /** the other models operations may name */
  donors: ModelId[];
  operations: MergeOperation[];
  /** DARE seed [0] */
  seed?: number;
  /** display name; not part of the variant's identity */
  label?: string;
}

/** mergekit's slerp colinearity threshold. */
export const DEFAULT_DOT_THRESHOLD = 0.9995;

/** Default of `normalize` per operation (mergekit's defaults). */
export const DEFAULT_NORMALIZE: Readonly<Record<Exclude<OperationKind, 'splice' | 'interpolate' | 'slerp'>, boolean>> = {
  linear: true,
  task_arithmetic: false,
  ties: true,
  dare_linear: false,
  dare_ties: false,
};

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function fail(field: string, message: string): never {
  throw new RecipeError(field, `'${field}' ${message}`);
}

function show(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

function checkKeys(obj: Json, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) fail(field ? `${field}.${k}` : k, `is not a known field (allowed: ${allowed.join(', ')})`);
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, `must be a finite number, got ${show(v)}`);
  return v;
}

function modelId(v: unknown, field: string, known: ReadonlySet<string>): string {
  if (typeof v !== 'string' || v === '') fail(field, `must be a non-empty model id, got ${show(v)}`);
  if (!known.has(v)) fail(field, `names model ${show(v)}, which is neither the base nor a donor`);
  return v;
}

function gradient(v: unknown, field: string, check: (x: number, f: string) => void): Gradient {
  if (Array.isArray(v)) {
    if (v.length === 0) fail(field, 'must not be an empty list');
    return v.map((x, i) => {
      const n = finite(x, `${field}[${i}]`);
      check(n, `${field}[${i}]`);
      return n;
    });
  }
  const n = finite(v, field);
  check(n, field);
  return n;
}

/** Validates a {@link Param}; `check` constrains every number in it. */
function param(v: unknown, field: string, check: (x: number, f: string) => void = () => undefined): Param {
  if (Array.isArray(v) && v.length > 0 && v.every(isObject)) {
    const out = v.map((c, i) => {
      const f = `${field}[${i}]`;
      checkKeys(c, f, ['component', 'nameContains', 'value']);
      const entry: ConditionalValue = { value: gradient(c.value, `${f}.value`, check) };
      if (c.component !== undefined) {
        if (c.component !== 'attention' && c.component !== 'mlp') fail(`${f}.component`, `must be 'attention' or 'mlp', got ${show(c.component)}`);
        entry.component = c.component;
      }
      if (c.nameContains !== undefined) {
        if (typeof c.nameContains !== 'string' || c.nameContains === '') fail(`${f}.nameContains`, `must be a non-empty string, got ${show(c.nameContains)}`);
        entry.nameContains = c.nameContains;
      }
      return entry;
    });
    const last = out[out.length - 1]!;
    if (last.component !== undefined || last.nameContains !== undefined) {
      fail(`${field}[${out.length - 1}]`, 'must be unconditional (no component, no nameContains) so every tensor gets a value');
    }
    return out;
  }
  return gradient(v, field, check);
}

const density = (x: number, f: string): void => {
  if (!(x > 0 && x <= 1)) fail(f, `must be in (0, 1], got ${x}`);
};

function layerRange(v: unknown, field: string, numLayers: number | undefined): LayerRange {
  if (!isObject(v)) fail(field, `must be an object { from, to }, got ${show(v)}`);
  checkKeys(v, field, ['from', 'to']);
  const { from, to } = v;
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) fail(`${field}.from`, `must be an integer >= 0, got ${show(from)}`);
  if (typeof to !== 'number' || !Number.isSafeInteger(to) || to <= from) fail(`${field}.to`, `must be an integer > from (${from}), got ${show(to)}`);
  if (numLayers !== undefined && to > numLayers) fail(`${field}.to`, `is ${to}, beyond the model's ${numLayers} decoder layers`);
  return { from, to };
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(field, `must be a boolean, got ${show(v)}`);
  return v;
}

function models<T extends WeightedModel>(v: unknown, field: string, known: ReadonlySet<string>, sparse: boolean, base: string | undefined): T[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `must be a non-empty list of { model, weight${sparse ? ', density' : ''} }, got ${show(v)}`);
  const seen = new Set<string>();
  return v.map((m, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(m)) fail(f, `must be an object, got ${show(m)}`);
    checkKeys(m, f, sparse ? ['model', 'weight', 'density'] : ['model', 'weight']);
    const id = modelId(m.model, `${f}.model`, known);
    if (seen.has(id)) fail(`${f}.model`, `repeats model ${show(id)}`);
    if (base !== undefined && id === base) fail(`${f}.model`, `is the operation's base ${show(id)}; task vectors are taken relative to it`);
    seen.add(id);
    if (m.weight === undefined) fail(`${f}.weight`, 'is required');
    const out: SparseModel = { model: id, weight: param(m.weight, `${f}.weight`) };
    if (sparse && m.density !== undefined) out.density = param(m.density, `${f}.density`, density);
    return out as unknown as T;
  });
}

const SELECTION_KEYS = ['op', 'layers', 'component', 'scope'];
const OP_KEYS: Record<OperationKind, string[]> = {
  splice: ['model'],
  interpolate: ['base', 'donor', 'alpha'],
  linear: ['models', 'normalize'],
  task_arithmetic: ['base', 'models', 'normalize', 'lambda'],
  ties: ['base', 'models', 'normalize', 'lambda'],
  dare_linear: ['base', 'models', 'normalize', 'rescale', 'lambda'],
  dare_ties: ['base', 'models', 'normalize', 'rescale', 'lambda'],
  slerp: ['base', 'model', 't', 'dotThreshold'],
};

function operation(v: unknown, field: string, known: ReadonlySet<string>, recipeBase: string, numLayers: number | undefined): MergeOperation {
  if (!isObject(v)) fail(field, `must be an object, got ${show(v)}`);
  const kind = v.op;
  if (typeof kind !== 'string' || !(OPERATION_KINDS as readonly string[]).includes(kind)) fail(`${field}.op`, `must be one of ${OPERATION_KINDS.join(', ')}, got ${show(kind)}`);
  const op = kind as OperationKind;
  checkKeys(v, field, [...SELECTION_KEYS, ...OP_KEYS[op]]);
  const sel: Selection = {};
  if (v.layers !== undefined || op === 'splice' || op === 'interpolate') sel.layers = layerRange(v.layers, `${field}.layers`, numLayers);
  if (v.component !== undefined) {
    if (v.component !== 'layer' && v.component !== 'attention' && v.component !== 'mlp') fail(`${field}.component`, `must be 'layer', 'attention' or 'mlp', got ${show(v.component)}`);
    sel.component = v.component;
  }
  if (v.scope !== undefined) {
    if (v.scope !== 'llm' && v.scope !== 'all') fail(`${field}.scope`, `must be 'llm' or 'all', got ${show(v.scope)}`);
    sel.scope = v.scope;
  }
  const base = v.base === undefined ? undefined : modelId(v.base, `${field}.base`, known);
  const opBase = base ?? recipeBase;
  const withBase = base === undefined ? {} : { base };
  const lambda = v.lambda === undefined ? {} : { lambda: finite(v.lambda, `${field}.lambda`) };
  const normalize = bool(v.normalize, `${field}.normalize`);
  const norm = normalize === undefined ? {} : { normalize };
  switch (op) {
    case 'splice':
      return { op, model: modelId(v.model, `${field}.model`, known), ...sel, layers: sel.layers! };
    case 'interpolate': {
      const donor = modelId(v.donor, `${field}.donor`, known);
      if (donor === opBase) fail(`${field}.donor`, `is the operation's base ${show(donor)}`);
      if (v.alpha === undefined) fail(`${field}.alpha`, 'is required');
      return { op, ...withBase, donor, alpha: param(v.alpha, `${field}.alpha`), ...sel, layers: sel.layers! };
    }
    case 'linear':
      return { op, models: models(v.models, `${field}.models`, known, false, undefined), ...norm, ...sel };
    case 'task_arithmetic':
      return { op, ...withBase, models: models(v.models, `${field}.models`, known, false, opBase), ...norm, ...lambda, ...sel };
    case 'ties':
      return { op, ...withBase, models: models<SparseModel>(v.models, `${field}.models`, known, true, opBase), ...norm, ...lambda, ...sel };
    case 'dare_linear':
    case 'dare_ties': {
      const rescale = bool(v.rescale, `${field}.rescale`);
      return { op, ...withBase, models: models<SparseModel>(v.models, `${field}.models`, known, true, opBase), ...norm, ...(rescale === undefined ? {} : { rescale }), ...lambda, ...sel };
    }
    case 'slerp': {
      const model = modelId(v.model, `${field}.model`, known);
      if (model === opBase) fail(`${field}.model`, `is the operation's base ${show(model)}`);
      if (v.t === undefined) fail(`${field}.t`, 'is required');
      const out: SlerpOp = { op, ...withBase, model, t: param(v.t, `${field}.t`), ...sel };
      if (v.dotThreshold !== undefined) {
        const d = finite(v.dotThreshold, `${field}.dotThreshold`);
        if (!(d > 0 && d <= 1)) fail(`${field}.dotThreshold`, `must be in (0, 1], got ${d}`);
        out.dotThreshold = d;
      }
      return out;
    }
  }
}

/** Decoder-layer cells an operation covers: per layer, which of attention / mlp / other. */
const CELLS: Record<Component, readonly ('attention' | 'mlp' | 'other')[]> = {
  layer: ['attention', 'mlp', 'other'],
  attention: ['attention'],
  mlp: ['mlp'],
};

/** Operations must cover disjoint tensors, so their order never matters. */
function checkDisjoint(ops: readonly MergeOperation[]): void {
  const range = (op: MergeOperation): LayerRange => op.layers ?? { from: 0, to: Number.MAX_SAFE_INTEGER };
  for (let j = 0; j < ops.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = ops[i]!;
      const b = ops[j]!;
      if (a.scope === 'all' && b.scope === 'all') {
        fail(`operations[${j}]`, `overlaps operations[${i}] on the tensors outside the decoder layers (both have scope 'all'); operations must cover disjoint tensors`);
      }
      const shared = CELLS[a.component ?? 'layer'].filter((c) => CELLS[b.component ?? 'layer'].includes(c));
      const from = Math.max(range(a).from, range(b).from);
      const to = Math.min(range(a).to, range(b).to);
      if (shared.length > 0 && from < to) {
        fail(`operations[${j}]`, `overlaps operations[${i}] at layer ${from} (${shared.join(', ')}); operations must cover disjoint tensors`);
      }
    }
  }
}

/**
 * Validates a recipe and returns a clean copy (unknown fields refused).
 * @param numLayers the models' decoder layer count, when known: layer ranges are checked against it
 * @throws RecipeError naming the offending field
 */
export function validateRecipe(value: unknown, numLayers?: number): MergeRecipe {
  if (!isObject(value)) throw new RecipeError('', `a recipe must be an object, got ${show(value)}`);
  checkKeys(value, '', ['base', 'donors', 'operations', 'seed', 'label']);
  if (typeof value.base !== 'string' || value.base === '') fail('base', `must be a non-empty model id, got ${show(value.base)}`);
  const base = value.base;
  if (!Array.isArray(value.donors)) fail('donors', `must be a list of model ids, got ${show(value.donors)}`);
  const donors: string[] = [];
  value.donors.forEach((d, i) => {
    if (typeof d !== 'string' || d === '') fail(`donors[${i}]`, `must be a non-empty model id, got ${show(d)}`);
    if (d === base) fail(`donors[${i}]`, `repeats the base model ${show(d)}`);
    if (donors.includes(d)) fail(`donors[${i}]`, `repeats donor ${show(d)}`);
    donors.push(d);
  });
  const known = new Set([base, ...donors]);
  if (!Array.isArray(value.operations)) fail('operations', `must be a list, got ${show(value.operations)}`);
  const operations = value.operations.map((op, i) => operation(op, `operations[${i}]`, known, base, numLayers));
  checkDisjoint(operations);
  const out: MergeRecipe = { base, donors, operations };
  if (value.seed !== undefined) {
    if (typeof value.seed !== 'number' || !Number.isSafeInteger(value.seed) || value.seed < 0) fail('seed', `must be an integer >= 0, got ${show(value.seed)}`);
    out.seed = value.seed;
  }
  if (value.label !== undefined) {
    if (typeof value.label !== 'string') fail('label', `must be a string, got ${show(value.label)}`);
    out.label = value.label;
  }
  return out;
}
