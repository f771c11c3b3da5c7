/**
 * mergekit YAML configs as recipes, and recipes as mergekit YAML
 * (docs/merging.md, "mergekit configs"). People already write merges in
 * mergekit's format; accepting it means the same file drives mergekit and
 * frankenscope. What a recipe cannot express faithfully is refused with a
 * {@link MergekitConfigError} naming the YAML path, never approximated
 * silently; the few places where frankenscope's variant differs from
 * mergekit's output by design are returned as `notes`.
 */
import { Document, isSeq, parseDocument, visit } from 'yaml';
import type { StorableDtype } from '../checkpoint/index.js';
import { RecipeError } from './errors.js';
import {
  type ConditionalValue,
  DEFAULT_DOT_THRESHOLD,
  type Gradient,
  type MergeOperation,
  type MergeRecipe,
  type ModelId,
  type Param,
  type SparseModel,
  validateRecipe,
  type WeightedModel,
} from './recipe.js';

/** A mergekit config that is malformed (`unsupported` false) or asks for what frankenscope does not do (`unsupported` true); `field` is the YAML path. */
export class MergekitConfigError extends RecipeError {
  readonly unsupported: boolean;

  constructor(field: string, message: string, unsupported: boolean) {
    super(field, message);
    this.unsupported = unsupported;
  }
}

/** What a mergekit config maps to. */
export interface MergekitParseResult {
  recipe: MergeRecipe;
  /** mergekit's `merge_method` */
  method: string;
  /** the stored dtype an export should use (`out_dtype`, else `dtype`); absent when the config names none */
  dtype?: StorableDtype;
  /** where the variant knowingly differs from what mergekit would write, or what was ignored */
  notes: string[];
}

export interface MergekitParseOptions {
  /** the models' decoder layer count, when known: layer ranges must then keep every layer at its index */
  numLayers?: number;
  /** maps a YAML `model:` string to the model id the recipe uses (default: the string itself) */
  modelId?: (reference: string) => ModelId;
}

/** The methods a frankenscope recipe reproduces. */
export const MERGEKIT_METHODS = ['passthrough', 'linear', 'task_arithmetic', 'ties', 'dare_ties', 'dare_linear', 'slerp'] as const;
type Method = (typeof MERGEKIT_METHODS)[number];

/** mergekit's own file name for the config written beside a merge. */
export const MERGEKIT_CONFIG_FILE = 'mergekit_config.yml';

/** Top-level keys frankenscope reads; anything else is refused by name. */
const TOP_KEYS = ['merge_method', 'base_model', 'models', 'slices', 'modules', 'dtype', 'out_dtype', 'tokenizer_source', 'tokenizer', 'chat_template', 'parameters', 'frankenscope'];

/** Method-level parameters (top-level `parameters`) and the per-model / per-slice tensor parameters of each method. */
const METHOD_PARAMS: Record<Method, { global: string[]; tensor: string[] }> = {
  passthrough: { global: [], tensor: [] },
  linear: { global: ['normalize'], tensor: ['weight'] },
  task_arithmetic: { global: ['normalize', 'lambda'], tensor: ['weight'] },
  ties: { global: ['normalize', 'int8_mask', 'lambda'], tensor: ['weight', 'density'] },
  dare_ties: { global: ['normalize', 'int8_mask', 'rescale', 'lambda'], tensor: ['weight', 'density'] },
  dare_linear: { global: ['normalize', 'int8_mask', 'rescale', 'lambda'], tensor: ['weight', 'density'] },
  slerp: { global: [], tensor: ['t'] },
};

const DTYPES: Record<string, StorableDtype> = {
  float32: 'F32', fp32: 'F32', float16: 'F16', fp16: 'F16', bfloat16: 'BF16', bf16: 'BF16',
};
const DTYPE_NAMES: Record<StorableDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

function bad(field: string, message: string): never {
  throw new MergekitConfigError(field, field ? `'${field}' ${message}` : `the mergekit config ${message}`, false);
}

function unsupported(field: string, message: string): never {
  throw new MergekitConfigError(field, `'${field}' ${message}`, true);
}

function keys(obj: Json, field: string, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) unsupported(field ? `${field}.${k}` : k, `is not supported ${what} (supported: ${allowed.length ? allowed.join(', ') : 'none'})`);
  }
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${show(v)}`);
  return v;
}

/** `check` constrains every number (a density in (0, 1]). */
function gradient(v: unknown, field: string, check: (x: number, f: string) => void): Gradient {
  if (Array.isArray(v)) {
    if (v.length === 0) bad(field, 'must not be an empty list');
    return v.map((x, i) => {
      check(num(x, `${field}[${i}]`), `${field}[${i}]`);
      return x as number;
    });
  }
  check(num(v, field), field);
  return v as number;
}

const anyNumber = (): void => undefined;
const fraction = (x: number, f: string): void => {
  if (!(x > 0 && x <= 1)) bad(f, `must be in (0, 1], got ${x}`);
};

/** A mergekit parameter setting: a number, a gradient, or conditional branches `{ filter?, value }` (filter: substring of the tensor name; '*' or none: every tensor). */
function param(v: unknown, field: string): Param {
  // density is a kept fraction wherever it is given
  const check = field.endsWith('.density') ? fraction : anyNumber;
  const branches = isObject(v) ? [v] : Array.isArray(v) && v.length > 0 && v.every(isObject) ? (v as Json[]) : null;
  if (!branches) return gradient(v, field, check);
  const path = (i: number) => (isObject(v) ? field : `${field}[${i}]`);
  const out: ConditionalValue[] = branches.map((b, i) => {
    keys(b, path(i), ['filter', 'value'], 'in a conditional parameter');
    if (b.value === undefined) bad(`${path(i)}.value`, 'is required');
    const value = gradient(b.value, `${path(i)}.value`, check);
    if (b.filter === undefined || b.filter === null || b.filter === '*') return { value };
    if (typeof b.filter !== 'string' || b.filter === '') bad(`${path(i)}.filter`, `must be a non-empty string, got ${show(b.filter)}`);
    return { nameContains: b.filter, value };
  });
  if (out[out.length - 1]!.nameContains !== undefined) {
    // mergekit leaves tensors no branch matches to the method's default or an error; a recipe names a value for every tensor
    unsupported(path(out.length - 1), "must have no filter (or filter '*') so every tensor gets a value");
  }
  return out;
}

function modelRef(v: unknown, field: string, map: (r: string) => ModelId): ModelId {
  if (typeof v !== 'string' || v.trim() === '') bad(field, `must be a model id or path, got ${show(v)}`);
  if (v.includes('+')) unsupported(field, `${show(v)} names a LoRA ('model+lora'); apply it to a checkpoint and register that instead`);
  return map(v);
}

function dtypeOf(v: unknown, field: string): StorableDtype | undefined {
  if (v === undefined || v === null) return undefined;
  const d = typeof v === 'string' ? DTYPES[v] : undefined;
  if (!d) unsupported(field, `must be one of ${Object.keys(DTYPES).join(', ')}, got ${show(v)}`);
  return d;
}

/** The parsed YAML as plain data; syntax errors name the line. */
function load(text: string): Json {
  if (typeof text !== 'string' || text.trim() === '') bad('', 'the mergekit config is empty');
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const err = doc.errors[0];
  if (err) {
    const at = err.linePos?.[0];
    bad('', `is not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${err.message.split('\n')[0]}`);
  }
  // aliases could expand a small document into a huge one
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    bad('', `cannot be read: ${(err as Error).message}`);
  }
  if (!isObject(value)) bad('', `must be a YAML mapping (merge_method, models or slices, ...), got ${show(value)}`);
  return value;
}

interface Source {
  model: ModelId;
  range: [number, number] | null;
  params: Json;
  field: string;
}

function range(v: unknown, field: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) bad(field, `must be [first, end) as two integers, got ${show(v)}`);
  const [a, b] = v;
  if (!Number.isSafeInteger(a) || (a as number) < 0) bad(`${field}[0]`, `must be an integer >= 0, got ${show(a)}`);
  if (!Number.isSafeInteger(b) || (b as number) <= (a as number)) bad(`${field}[1]`, `must be an integer > ${show(a)}, got ${show(b)}`);
  return [a as number, b as number];
}

function paramsOf(v: unknown, field: string): Json {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) bad(field, `must be a mapping of parameters, got ${show(v)}`);
  return v;
}

/**
 * Maps a mergekit YAML config onto a recipe.
 * @throws MergekitConfigError naming the YAML path (`unsupported` for valid mergekit the recipe cannot reproduce)
 */
export function parseMergekitConfig(text: string, options: MergekitParseOptions = {}): MergekitParseResult {
  const cfg = load(text);
  const map = options.modelId ?? ((r: string) => r);
  const N = options.numLayers;
  const notes: string[] = [];
  keys(cfg, '', TOP_KEYS, 'at the top level');
  const method = cfg.merge_method;
  if (typeof method !== 'string' || method === '') bad('merge_method', `is required (one of ${MERGEKIT_METHODS.join(', ')}), got ${show(method)}`);
  if (!(MERGEKIT_METHODS as readonly string[]).includes(method)) {
    unsupported('merge_method', `${show(method)} is not supported; frankenscope reproduces ${MERGEKIT_METHODS.join(', ')}`);
  }
  const m = method as Method;
  if (cfg.modules !== undefined) unsupported('modules', 'is not supported (per-module merges); use models or slices');
  if (cfg.tokenizer !== undefined) unsupported('tokenizer', "is not supported: a variant always uses its base model's tokenizer");
  if (cfg.chat_template !== undefined) unsupported('chat_template', "is not supported: a variant always uses its base model's chat template");
  if (cfg.tokenizer_source !== undefined && cfg.tokenizer_source !== null) {
    if (cfg.tokenizer_source !== 'base') unsupported('tokenizer_source', `${show(cfg.tokenizer_source)} is not supported: a variant always uses its base model's tokenizer ('base')`);
  }
  const dtype = dtypeOf(cfg.dtype, 'dtype');
  const outDtype = dtypeOf(cfg.out_dtype, 'out_dtype');
  if (dtype && outDtype && dtype !== outDtype) notes.push(`dtype ${show(cfg.dtype)} is mergekit's compute dtype; frankenscope merges in float32 and stores out_dtype ${show(cfg.out_dtype)}`);

  const global = paramsOf(cfg.parameters, 'parameters');
  const spec = METHOD_PARAMS[m];
  keys(global, 'parameters', [...spec.global, ...spec.tensor], `for merge_method ${m}`);
  if (global.int8_mask !== undefined) notes.push('parameters.int8_mask is ignored: it only saves memory in mergekit');

  const hasModels = cfg.models !== undefined && cfg.models !== null;
  const hasSlices = cfg.slices !== undefined && cfg.slices !== null;
  if (hasModels === hasSlices) bad(hasModels ? 'slices' : 'models', "exactly one of 'models' or 'slices' must be given");

  // sources in order, with their YAML paths
  const sources: Source[][] = [];
  /** per slice: its own tensor parameters (between a source's and the top level's in mergekit's lookup) */
  const sliceParams: Json[] = [];
  if (hasModels) {
    if (!Array.isArray(cfg.models) || cfg.models.length === 0) bad('models', `must be a non-empty list of { model, parameters? }, got ${show(cfg.models)}`);
    sources.push(
      cfg.models.map((e, i) => {
        const f = `models[${i}]`;
        if (!isObject(e)) bad(f, `must be a mapping { model, parameters? }, got ${show(e)}`);
        keys(e, f, ['model', 'parameters'], 'in a model entry');
        const params = paramsOf(e.parameters, `${f}.parameters`);
        keys(params, `${f}.parameters`, spec.tensor, `for merge_method ${m}`);
        return { model: modelRef(e.model, `${f}.model`, map), range: null, params, field: f };
      }),
    );
  } else {
    if (!Array.isArray(cfg.slices) || cfg.slices.length === 0) bad('slices', `must be a non-empty list of { sources }, got ${show(cfg.slices)}`);
    cfg.slices.forEach((s, i) => {
      const f = `slices[${i}]`;
      if (!isObject(s)) bad(f, `must be a mapping { sources }, got ${show(s)}`);
      keys(s, f, ['sources', 'parameters'], 'in a slice (slice-level base_model and residual_weight are not)');
      const own = paramsOf(s.parameters, `${f}.parameters`);
      keys(own, `${f}.parameters`, spec.tensor, `in a slice for merge_method ${m}`);
      sliceParams.push(own);
      if (!Array.isArray(s.sources) || s.sources.length === 0) bad(`${f}.sources`, `must be a non-empty list, got ${show(s.sources)}`);
      sources.push(
        s.sources.map((src, j) => {
          const g = `${f}.sources[${j}]`;
          if (!isObject(src)) bad(g, `must be a mapping { model, layer_range }, got ${show(src)}`);
          keys(src, g, ['model', 'layer_range', 'parameters'], 'in a slice source');
          const params = paramsOf(src.parameters, `${g}.parameters`);
          keys(params, `${g}.parameters`, spec.tensor, `for merge_method ${m}`);
          return { model: modelRef(src.model, `${g}.model`, map), range: range(src.layer_range, `${g}.layer_range`), params, field: g };
        }),
      );
    });
  }
  const baseModel = cfg.base_model === undefined || cfg.base_model === null ? undefined : modelRef(cfg.base_model, 'base_model', map);

  let base: ModelId;
  const operations: MergeOperation[] = [];
  /** the YAML path each operation comes from, so a recipe error can name it */
  const origins: string[] = [];
  if (m === 'passthrough') {
    base = passthrough(sources, hasModels, baseModel, N, operations, origins, notes);
  } else {
    if (hasSlices && sources.length > 1) {
      // mergekit takes the embeddings with the first slice's parameters and the head with the last's: one recipe operation cannot hold both
      unsupported('slices[1]', `is not supported for merge_method ${m}: give one slice over all layers (or use models)`);
    }
    const list = sources[0]!;
    if (hasSlices) {
      const [a, b] = list[0]!.range!;
      list.forEach((s) => {
        if (s.range![0] !== a || s.range![1] !== b) unsupported(`${s.field}.layer_range`, `is ${show(s.range)}, but every source of the slice must take the same layers ${show([a, b])} (a variant keeps each layer at its index)`);
      });
      if (a !== 0 || (N !== undefined && b !== N)) {
        unsupported(`${list[0]!.field}.layer_range`, `is ${show([a, b])}: mergekit would write a model of ${b - a} layers, and a variant keeps the base's ${N ?? 'full'} layer count; the slice must cover [0, ${N ?? 'N'}]`);
      }
    }
    if (m !== 'linear' && baseModel === undefined) bad('base_model', `is required for merge_method ${m}`);
    base = baseModel ?? list[0]!.model;
    // the one slice's parameters override the top-level ones, as in mergekit's lookup; each is named where it was written
    const defaults = hasSlices ? { ...prefixed(global, 'parameters'), ...prefixed(sliceParams[0]!, 'slices[0].parameters') } : prefixed(global, 'parameters');
    operations.push(mergeOperation(m, list, global, defaults, base, baseModel, hasSlices ? { from: list[0]!.range![0], to: list[0]!.range![1] } : undefined));
    origins.push(hasModels ? 'models' : 'slices[0]');
    const op = operations[0]!;
    const params: Param[] = op.op === 'slerp' ? [op.t] : 'models' in op ? op.models.flatMap((x) => [x.weight, ...('density' in x && x.density !== undefined ? [x.density] : [])]) : [];
    if (params.some(varies)) {
      // mergekit's planner evaluated gradients at t = 1 for the tensors after the decoder until its multi-module rewrite (#534), and at t = 0 since
      notes.push('gradients are evaluated at t = 0 for the embeddings and t = 1 for the final norm and lm_head; current mergekit uses t = 0 for both');
    }
  }

  const donors: ModelId[] = [];
  const note = (id: ModelId) => {
    if (id !== base && !donors.includes(id)) donors.push(id);
  };
  for (const list of sources) for (const s of list) note(s.model);
  const recipe: MergeRecipe = { base, donors, operations };
  const ext = cfg.frankenscope;
  if (ext !== undefined) {
    // frankenscope's own fields ride in a block mergekit ignores, so an exported config round-trips
    if (!isObject(ext)) bad('frankenscope', `must be a mapping { seed?, label? }, got ${show(ext)}`);
    keys(ext, 'frankenscope', ['seed', 'label'], 'in the frankenscope block');
    if (ext.seed !== undefined) {
      if (!Number.isSafeInteger(ext.seed) || (ext.seed as number) < 0) bad('frankenscope.seed', `must be an integer >= 0, got ${show(ext.seed)}`);
      recipe.seed = ext.seed as number;
    }
    if (ext.label !== undefined) {
      if (typeof ext.label !== 'string') bad('frankenscope.label', `must be a string, got ${show(ext.label)}`);
      recipe.label = ext.label;
    }
  }
  let valid: MergeRecipe;
  try {
    valid = validateRecipe(recipe, N);
  } catch (err) {
    if (!(err instanceof RecipeError)) throw err;
    const match = /^operations\[(\d+)\]/.exec(err.field);
    const origin = match ? origins[Number(match[1])] ?? '' : '';
    throw new MergekitConfigError(origin, `${origin ? `'${origin}': ` : ''}${err.message}`, false);
  }
  const result: MergekitParseResult = { recipe: valid, method: m, notes };
  const out = outDtype ?? dtype;
  if (out) result.dtype = out;
  return result;
}

/** Whether a parameter takes different values along the layers (a gradient that is not constant). */
function varies(p: Param): boolean {
  if (typeof p === 'number') return false;
  const grads = typeof p[0] === 'number' ? [p as number[]] : (p as ConditionalValue[]).map((c) => c.value);
  return grads.some((g) => Array.isArray(g) && g.some((x) => x !== g[0]));
}

/** Splices from slices that keep every layer at its index. */
function passthrough(sources: Source[][], hasModels: boolean, baseModel: ModelId | undefined, N: number | undefined, operations: MergeOperation[], origins: string[], notes: string[]): ModelId {
  if (hasModels) {
    if (sources[0]!.length !== 1) unsupported('models[1]', 'is not supported: passthrough with models copies exactly one model');
    const only = sources[0]![0]!.model;
    if (baseModel !== undefined && baseModel !== only) unsupported('base_model', `must be the copied model ${show(only)} for passthrough with models`);
    return only;
  }
  let offset = 0;
  const slices = sources.map((list, i) => {
    if (list.length !== 1) unsupported(`slices[${i}].sources[1]`, 'is not supported: a passthrough slice takes its layers from exactly one model');
    const s = list[0]!;
    const [a, b] = s.range!;
    if (a !== offset) {
      // mergekit stacks slices into a deeper or shallower model; a variant keeps the base's layers at their indices
      unsupported(`${s.field}.layer_range`, `starts at layer ${a}, but the variant is at layer ${offset}: frankenscope splices keep every layer at its index, so slices must be contiguous from 0 (no repeated or dropped layers)`);
    }
    offset = b;
    return s;
  });
  if (N !== undefined && offset !== N) {
    unsupported(`${slices[slices.length - 1]!.field}.layer_range`, `ends at layer ${offset}, but the models have ${N} layers: the slices must cover [0, ${N}] (a variant keeps the base's layer count)`);
  }
  const base = baseModel ?? slices[0]!.model;
  if (baseModel === undefined) notes.push(`the tensors outside the decoder layers (embeddings, vision tower, final norm, head) come from the first slice's model ${show(base)}`);
  else notes.push(`base_model ${show(base)} gives the tensors outside the decoder layers (mergekit's passthrough ignores base_model and takes embeddings from the first slice's model)`);
  const last = slices[slices.length - 1]!.model;
  if (last !== base) notes.push(`mergekit takes the final norm and lm_head from the last slice's model ${show(last)}; this variant keeps them from ${show(base)}`);
  slices.forEach((s, i) => {
    if (s.model === base) return;
    operations.push({ op: 'splice', model: s.model, layers: { from: s.range![0], to: s.range![1] } });
    origins.push(`slices[${i}]`);
  });
  return base;
}

/** Parameters with the YAML path each was written at. */
type Located = Record<string, { value: unknown; field: string }>;

function prefixed(params: Json, at: string): Located {
  return Object.fromEntries(Object.entries(params).map(([k, value]) => [k, { value, field: `${at}.${k}` }]));
}

/**
 * @param global the top-level parameters (method settings: normalize, lambda, rescale)
 * @param defaults tensor parameters a source does not set itself (slice, then top level)
 */
function mergeOperation(m: Exclude<Method, 'passthrough'>, list: Source[], global: Json, defaults: Located, base: ModelId, baseModel: ModelId | undefined, layers: { from: number; to: number } | undefined): MergeOperation {
  const sel = { ...(layers ? { layers } : {}), scope: 'all' as const };
  const boolean = (k: string): boolean | undefined => {
    const v = global[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') bad(`parameters.${k}`, `must be true or false, got ${show(v)}`);
    return v;
  };
  /** a tensor parameter: the model's own, else the top-level default */
  const tensorParam = (s: Source, k: string, required: boolean): Param | undefined => {
    if (s.params[k] !== undefined) return param(s.params[k], `${s.field}.parameters.${k}`);
    const d = defaults[k];
    if (d !== undefined) return param(d.value, d.field);
    if (required) bad(`${s.field}.parameters.${k}`, `is required for merge_method ${m} (or give a default in parameters.${k})`);
    return undefined;
  };
  const normalize = boolean('normalize');
  const norm = normalize === undefined ? {} : { normalize };
  const lambda = global.lambda === undefined ? {} : { lambda: num(global.lambda, 'parameters.lambda') };
  if (m === 'slerp') {
    const others = list.filter((s) => s.model !== base);
    if (list.length !== 2 || others.length !== 1) unsupported(list.length > 2 ? `${list[2]!.field}` : list[0]!.field.replace(/\[\d+\]$/, ''), `slerp needs exactly two models, base_model ${show(base)} and one other`);
    const t = list.map((s) => (s.params.t === undefined ? undefined : param(s.params.t, `${s.field}.parameters.t`))).find((x) => x !== undefined) ?? (defaults.t === undefined ? undefined : param(defaults.t.value, defaults.t.field));
    if (t === undefined) bad('parameters.t', 'is required for merge_method slerp');
    return { op: 'slerp', model: others[0]!.model, t, ...sel };
  }
  if (m === 'linear') {
    const models: WeightedModel[] = list.map((s) => ({ model: s.model, weight: tensorParam(s, 'weight', true)! }));
    return { op: 'linear', models, ...norm, ...sel };
  }
  // mergekit lists the base among the models (often without parameters) and takes task vectors relative to it
  const deltas = list.filter((s) => s.model !== baseModel);
  if (deltas.length === 0) bad('models', `names only base_model ${show(base)}; merge_method ${m} needs other models`);
  const sparse = m !== 'task_arithmetic';
  const models: SparseModel[] = deltas.map((s) => {
    const out: SparseModel = { model: s.model, weight: tensorParam(s, 'weight', true)! };
    const d = sparse ? tensorParam(s, 'density', false) : undefined;
    if (d !== undefined) out.density = d;
    return out;
  });
  if (m === 'task_arithmetic') return { op: m, models, ...norm, ...lambda, ...sel };
  if (m === 'ties') return { op: m, models, ...norm, ...lambda, ...sel };
  const rescale = boolean('rescale');
  return { op: m, models, ...norm, ...(rescale === undefined ? {} : { rescale }), ...lambda, ...sel };
}

/** A recipe's mergekit config, or why there is none. */
export type MergekitExport = { yaml: string; notes: string[] } | { yaml: null; reason: string };

function mkParam(p: Param): unknown {
  if (typeof p === 'number' || typeof p[0] === 'number') return p;
  return (p as ConditionalValue[]).map((c) => {
    if (c.component !== undefined) throw new RangeError(`a parameter branch selects component '${c.component}', which a mergekit filter (a substring of the tensor name) cannot express`);
    return c.nameContains === undefined ? { value: c.value } : { filter: c.nameContains, value: c.value };
  });
}

/**
 * The mergekit config equivalent to a recipe, or the reason it has none:
 * whole-layer splices become a passthrough over contiguous slices; a single
 * linear / task_arithmetic / ties / dare / slerp operation over the whole
 * model (scope 'all', every layer) becomes a models config. Parsing the
 * result gives a recipe with the same fingerprint.
 */
export function toMergekitConfig(recipe: MergeRecipe, options: { numLayers: number; dtype?: StorableDtype }): MergekitExport {
  const valid = validateRecipe(recipe, options.numLayers);
  const N = options.numLayers;
  const cfg: Json = {};
  const notes: string[] = [];
  const ops = valid.operations;
  try {
    if (ops.every((op) => op.op === 'splice')) {
      const owner: ModelId[] = Array.from({ length: N }, () => valid.base);
      for (const op of ops) {
        if ((op.component ?? 'layer') !== 'layer') throw new RangeError(`a splice of the ${op.component} sub-block has no passthrough equivalent (mergekit slices take whole layers)`);
        if ((op.scope ?? 'llm') !== 'llm') throw new RangeError("a splice with scope 'all' has no passthrough equivalent");
        for (let l = op.layers.from; l < op.layers.to; l++) owner[l] = op.model;
      }
      const slices: Json[] = [];
      for (let l = 0; l < N; ) {
        let e = l;
        while (e < N && owner[e] === owner[l]) e++;
        slices.push({ sources: [{ model: owner[l], layer_range: [l, e] }] });
        l = e;
      }
      cfg.slices = slices;
      cfg.merge_method = 'passthrough';
      cfg.base_model = valid.base;
      if (owner[0] !== valid.base) notes.push(`mergekit's passthrough ignores base_model and would take the embeddings from ${show(owner[0])}`);
      if (owner[N - 1] !== valid.base) notes.push(`mergekit's passthrough would take the final norm and lm_head from ${show(owner[N - 1])}`);
    } else {
      if (ops.length !== 1) throw new RangeError('only a single merge operation (or whole-layer splices) has a mergekit equivalent');
      const op = ops[0]!;
      if (op.op === 'splice' || op.op === 'interpolate') throw new RangeError(`operation '${op.op}' has no mergekit equivalent`);
      if (op.scope !== 'all') throw new RangeError("a mergekit merge covers every tensor: the operation needs scope 'all'");
      if ((op.component ?? 'layer') !== 'layer') throw new RangeError('a merge of one sub-block has no mergekit equivalent');
      if (op.layers && (op.layers.from !== 0 || op.layers.to !== N)) throw new RangeError(`a merge of layers [${op.layers.from}, ${op.layers.to}) only has no mergekit equivalent`);
      if ('base' in op && op.base !== undefined && op.base !== valid.base) throw new RangeError("an operation base other than the recipe's base has no mergekit equivalent");
      cfg.merge_method = op.op;
      cfg.base_model = valid.base;
      const parameters: Json = {};
      if (op.op === 'slerp') {
        if (op.dotThreshold !== undefined && op.dotThreshold !== DEFAULT_DOT_THRESHOLD) throw new RangeError('mergekit has no setting for the slerp dot threshold');
        cfg.models = [{ model: valid.base }, { model: op.model }];
        parameters.t = mkParam(op.t);
      } else {
        cfg.models = op.models.map((m) => {
          const p: Json = { weight: mkParam(m.weight) };
          if ('density' in m && m.density !== undefined) p.density = mkParam(m.density);
          return { model: m.model, parameters: p };
        });
        if (op.normalize !== undefined) parameters.normalize = op.normalize;
        if ('rescale' in op && op.rescale !== undefined) parameters.rescale = op.rescale;
        if ('lambda' in op && op.lambda !== undefined) parameters.lambda = op.lambda;
      }
      if (Object.keys(parameters).length) cfg.parameters = parameters;
    }
  } catch (err) {
    if (err instanceof RangeError) return { yaml: null, reason: err.message };
    throw err;
  }
  if (options.dtype) cfg.dtype = DTYPE_NAMES[options.dtype];
  const ext: Json = {};
  if (valid.seed !== undefined && valid.seed !== 0) ext.seed = valid.seed;
  if (valid.label !== undefined) ext.label = valid.label;
  if (Object.keys(ext).length) cfg.frankenscope = ext;
  const header = ['# written by frankenscope: the merge recipe of this variant in mergekit\'s format', ...notes.map((n) => `# note: ${n}`)].join('\n');
  const doc = new Document(cfg);
  // number lists (layer ranges, gradients) inline, as mergekit's examples write them
  visit(doc, { Seq: (_key, node) => { if (node.items.every((x) => !isSeq(x) && typeof (x as { value?: unknown }).value === 'number')) node.flow = true; } });
  return { yaml: `${header}\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`, notes };
}

/** A recipe with every model id passed through `rename` (e.g. YAML paths to registered checkpoint ids). */
export function renameRecipeModels(recipe: MergeRecipe, rename: (id: ModelId) => ModelId): MergeRecipe {
  const ops = recipe.operations.map((op): MergeOperation => {
    const o = structuredClone(op) as MergeOperation & { base?: ModelId; model?: ModelId; donor?: ModelId; models?: WeightedModel[] };
    if (o.base !== undefined) o.base = rename(o.base);
    if (o.model !== undefined) o.model = rename(o.model);
    if (o.donor !== undefined) o.donor = rename(o.donor);
    if (o.models) o.models = o.models.map((x) => ({ ...x, model: rename(x.model) }));
    return o;
  });
  return { ...recipe, base: rename(recipe.base), donors: recipe.donors.map(rename), operations: ops };
}
