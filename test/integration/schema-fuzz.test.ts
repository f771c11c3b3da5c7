/**
 * Walks every argument of every field reachable from Query and Mutation with
 * out-of-range numbers, empty/huge/NUL strings and unknown ids, one argument
 * at a time, everything else valid. A user mistake must never come back as
 * INTERNAL_SERVER_ERROR, and refused mutations must leave the registries as
 * they were.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeTinyTrio } from '../../src/engine/fixtures/index.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { writeJsonlProbes } from '../helpers/probe-fixtures.js';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

const N = 4;
const HUGE = 'x'.repeat(100 * 1024);
const BAD_INTS = [0, -1, 2 ** 31 - 1, -(2 ** 31)];
const BAD_FLOATS = [-1, 1e308, -1e308, 2 ** 31 - 1];
const BAD_STRINGS = ['', HUGE, 'a\u0000b', '\u0000'];
const BAD_IDS = [...BAD_STRINGS, 'no/such-id'];
const BAD_JSON: unknown[] = [
  '', HUGE, 'a\u0000b', 1e308, -1, {}, [],
  { base: 'a\u0000b', donors: [], operations: [] },
  { base: 'tiny/sft', donors: [HUGE], operations: [{ op: 'splice', model: HUGE, layers: { from: 0, to: 1 } }] },
  { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'splice', model: 'tiny/rl', layers: { from: -1, to: 2 ** 31 - 1 } }] },
  { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'interpolate', model: 'tiny/rl', alpha: 1e308 }] },
];

const ALL_FROM_RL = { base: 'tiny/sft', donors: ['tiny/rl'], operations: [{ op: 'splice', model: 'tiny/rl', layers: { from: 0, to: N } }] };

/** Valid values of required arguments, by argument name; cheap on purpose (one layer, one token). */
const VALID_ARGS: Record<string, unknown> = {
  model: 'tiny/sft', a: 'tiny/sft', b: 'tiny/rl', target: 'tiny/sft', source: 'tiny/rl',
  base: 'tiny/base', sft: 'tiny/sft', rl: 'tiny/rl', probeSet: 'fuzz', method: 'ZERO_ABLATION', setting: 'REASONING',
  frozen: [], query: 'SELECT 1', id: 'no-such-run', recipe: { model: 'tiny/sft' }, versus: { model: 'tiny/rl' },
  waitSeconds: 0,
};
/** Per field: a plain-model recipe cannot be exported, so a fuzzed name or path that slips through still writes nothing. */
const VALID_BY_FIELD: Record<string, Record<string, unknown>> = {
  registerCheckpoint: { path: 'tiny/base' },
  registerProbeSet: { path: 'probes/fuzz' },
  exportVariant: { path: 'exports/fuzz', recipe: { model: 'tiny/sft' } },
};
/** Valid values of input objects; a fuzzed field goes into the first one holding it. */
const VALID_INPUTS: Record<string, Record<string, unknown>[]> = {
  AnalysisOptions: [{ layers: [1], maxExamples: 1, maxNewTokens: 1, batchSize: 1, bootstrapSamples: 10 }],
  CharacterizationOptions: [{ topK: 2 }],
  VariantRecipeInput: [{ model: 'tiny/sft' }, { preset: 'IN_EARLY__RL_MIDDLE_LATE', sft: 'tiny/sft', rl: 'tiny/rl', layerCuts: [1, 2] }, { recipe: ALL_FROM_RL }],
};

const EMPTY_IS_VALID = new Set(['AnalysisOptions', 'CharacterizationOptions']);

interface Case {
  label: string;
  query: string;
  variables: Record<string, unknown>;
  /** the argument fuzzed; a NUL byte or a 100 kB string in it must be refused naming it */
  argument: string;
  mustRefuse: boolean;
}

/** A NUL byte or a 100 kB string anywhere in `value` (the boundary refuses both, whatever the argument). */
function holdsNulOrHuge(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000') || value.length >= HUGE.length;
  if (Array.isArray(value)) return value.some(holdsNulOrHuge);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsNulOrHuge);
  return false;
}

/** Bad values for a value of `type`, where each bad value fits the type's shape. */
function badValues(type: GraphQLInputType): unknown[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    const item = badValues(inner.ofType);
    return [[], ...item.map((v) => [v]), Array.from({ length: 5000 }, () => item[0])];
  }
  // {} is a valid (all-defaults) options object, and an expensive one; for recipes it is a mistake
  if (isInputObjectType(inner)) return EMPTY_IS_VALID.has(inner.name) ? [] : [{}];
  if (isEnumType(inner)) return [];
  switch (inner.name) {
    case 'Int': return BAD_INTS;
    case 'Float': return BAD_FLOATS;
    case 'String': return BAD_STRINGS;
    case 'ID': return BAD_IDS;
    case 'JSON': return BAD_JSON;
    case 'Boolean': return [];
    // a new scalar needs its own bad values, or the walk would silently skip it
    default: throw new Error(`no bad values for scalar ${inner.name}; add them to badValues`);
  }
}

/** Every (path, bad value) of an argument, walking into input objects; a bad field goes into a valid object. */
function fuzzArg(type: GraphQLInputType, path: string[] = []): { path: string[]; value: unknown }[] {
  const out = badValues(type).map((bad) => ({ path, value: bad }));
  const named = getNamedType(type);
  if (!isInputObjectType(named) || isListType(isNonNullType(type) ? type.ofType : type)) return out;
  const bases = VALID_INPUTS[named.name] ?? [{}];
  for (const field of Object.values(named.getFields())) {
    const within = bases.find((b) => field.name in b) ?? bases[0]!;
    for (const inner of fuzzArg(field.type)) {
      out.push({ path: [...path, field.name, ...inner.path], value: { ...within, [field.name]: inner.value } });
    }
  }
  return out;
}

function validValue(fieldName: string, arg: GraphQLArgument): unknown {
  const byField = VALID_BY_FIELD[fieldName];
  if (byField && arg.name in byField) return byField[arg.name];
  return VALID_ARGS[arg.name];
}

/** A minimal selection set: the leaf fields without required arguments, else the first object field's. */
function selection(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (!isObjectType(named) || depth > 3) return '{ __typename }';
  const callable = Object.values(named.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type)));
  const leaves = callable.filter((f) => isLeafType(getNamedType(f.type)));
  if (leaves.length) return `{ ${leaves.map((f) => f.name).join(' ')} }`;
  const first = callable[0];
  return first ? `{ ${first.name} ${selection(first.type, depth + 1)} }` : '{ __typename }';
}

/** Arguments a field needs: the required ones, plus waitSeconds so nothing waits unless asked to. */
function baselineArgs(field: GraphQLField<unknown, unknown>, wait: number): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (arg.name === 'waitSeconds') args[arg.name] = wait;
    else if (isNonNullType(arg.type)) {
      const v = validValue(field.name, arg);
      if (v === undefined) throw new Error(`no valid value for ${field.name}(${arg.name}); add it to VALID_ARGS`);
      args[arg.name] = v;
    } else if (isInputObjectType(getNamedType(arg.type)) && VALID_INPUTS[getNamedType(arg.type).name]) {
      args[arg.name] = VALID_INPUTS[getNamedType(arg.type).name]![0];
    }
  }
  return args;
}

function call(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, prefix: string, vars: Record<string, unknown>, decls: string[]): string {
  const parts: string[] = [];
  for (const arg of field.args) {
    if (!(arg.name in args)) continue;
    const v = `${prefix}${arg.name}`;
    decls.push(`$${v}: ${String(arg.type)}`);
    vars[v] = args[arg.name];
    parts.push(`${arg.name}: $${v}`);
  }
  return parts.length ? `${field.name}(${parts.join(', ')})` : field.name;
}

/** One request per bad value of each argument, wrapping `inner` fields in a parent called with valid arguments. */
function casesFor(op: 'query' | 'mutation', root: GraphQLField<unknown, unknown>, child?: GraphQLField<unknown, unknown>): Case[] {
  const target = child ?? root;
  const cases: Case[] = [];
  for (const arg of target.args) {
    const base = baselineArgs(target, 0);
    for (const { path, value } of fuzzArg(arg.type)) {
      const args = { ...base, [arg.name]: value };
      const vars: Record<string, unknown> = {};
      const decls: string[] = [];
      let body: string;
      if (child) {
        // the parent waits so that DONE-only paths (examples, tensors) see the fuzzed value; it runs once and is cached
        const parent = call(root, baselineArgs(root, 120), 'p_', vars, decls);
        body = `${parent} { ${call(child, args, 'c_', vars, decls)} ${selection(child.type)} }`;
      } else {
        body = `${call(root, args, 'a_', vars, decls)} ${selection(root.type)}`;
      }
      const shown = typeof value === 'string' && value.length > 40 ? `<${value.length} chars>` : JSON.stringify(value)?.slice(0, 80);
      cases.push({
        label: `${child ? `${root.name}.${child.name}` : root.name}(${[arg.name, ...path].join('.')}: ${shown})`,
        query: `${op} Fuzz${decls.length ? `(${decls.join(', ')})` : ''} { ${body} }`,
        variables: vars,
        argument: arg.name,
        mustRefuse: holdsNulOrHuge(value),
      });
    }
  }
  return cases;
}

/** Fields with arguments on the types the root fields return, reached through the first root field returning each type. */
function nestedCases(schema: GraphQLSchema): Case[] {
  const seen = new Set<GraphQLNamedType>();
  const cases: Case[] = [];
  for (const [op, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const root of Object.values((type as GraphQLObjectType).getFields())) {
      const returned = getNamedType(root.type);
      if (!isObjectType(returned) || seen.has(returned)) continue;
      seen.add(returned);
      for (const child of Object.values(returned.getFields())) if (child.args.length) cases.push(...casesFor(op, root, child));
    }
  }
  return cases;
}

function rootCases(type: GraphQLObjectType | null | undefined, op: 'query' | 'mutation'): Case[] {
  return Object.values(type?.getFields() ?? {}).flatMap((f) => casesFor(op, f));
}

let t: TestApp;
let schema: GraphQLSchema;

beforeAll(async () => {
  schema = await buildAppSchema();
  t = await createTestApp();
  await writeTinyTrio(join(t.dir, 'models', 'tiny'), { numLayers: N });
  const probes = join(t.dir, 'models', 'probes', 'fuzz');
  await writeJsonlProbes(probes, [
    { id: 'p0', prompt: '<image>How many squares?', answer: '2', image: true, split: 'perception' },
    { id: 'r0', prompt: 'What is 1 + 1?', answer: '2', split: 'reasoning' },
  ]);
  const lines = (await readFile(join(probes, 'probes.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  const aligned = lines.filter((l) => l.split === 'perception').map((l) => ({ ...l, id: `a${l.id}`, split: 'alignment', description: 'two squares' }));
  await writeFile(join(probes, 'probes.jsonl'), [...lines, ...aligned].map((l) => JSON.stringify(l)).join('\n') + '\n');
  await mkdir(join(t.dir, 'models', 'exports'), { recursive: true });
  for (const role of ['base', 'sft', 'rl']) expect((await t.execute(`mutation { registerCheckpoint(path: "tiny/${role}") { id } }`)).errors).toBeUndefined();
  expect((await t.execute(`mutation { registerProbeSet(path: "probes/fuzz", name: "fuzz") { id } }`)).errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  if (!t) return;
  // runs accepted above compute in the background: stop them before the warehouse closes
  const deadline = Date.now() + 60_000;
  for (;;) {
    const live = (await t.app.services.warehouse.listRuns({ first: 1000 })).filter((r) => r.status === 'QUEUED' || r.status === 'RUNNING');
    if (live.length === 0 || Date.now() > deadline) break;
    for (const r of live) t.app.services.runs.cancel(r.id);
    await new Promise((r) => setTimeout(r, 200));
  }
  await t.close();
}, 120_000);

/** The problems found: internal errors, stack traces, and refusals that echo a 100 kB value back. */
async function runAll(cases: Case[]): Promise<string[]> {
  const problems: string[] = [];
  for (const c of cases) {
    const r = await t.execute(c.query, c.variables);
    for (const e of r.errors ?? []) {
      if (e.extensions?.code === 'INTERNAL_SERVER_ERROR') problems.push(`${c.label}: INTERNAL_SERVER_ERROR ${e.message}`);
      if (e.extensions?.stacktrace) problems.push(`${c.label}: stack trace`);
      if (e.message.length > 2000) problems.push(`${c.label}: ${e.extensions?.code} message of ${e.message.length} chars`);
    }
    if (c.mustRefuse) {
      const refusal = r.errors?.find((e) => e.extensions?.code === 'BAD_USER_INPUT' && String(e.extensions.argument ?? '').startsWith(c.argument));
      if (!refusal) problems.push(`${c.label}: not refused as BAD_USER_INPUT naming '${c.argument}' (got ${r.errors?.map((e) => e.extensions?.code).join(', ') ?? 'data'})`);
    }
  }
  return problems;
}

describe('schema fuzz: user mistakes are user errors', () => {
  test('the walk covers every root field and every field with arguments', () => {
    const labels = new Set([...rootCases(schema.getQueryType(), 'query'), ...rootCases(schema.getMutationType(), 'mutation'), ...nestedCases(schema)].map((c) => c.label.split('(')[0]));
    for (const type of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const f of Object.values(type.getFields())) if (f.args.length) expect(labels, f.name).toContain(f.name);
    }
    for (const name of ['variant.scores', 'variant.transitions', 'characterization.tensors', 'localization.examples', 'probeSets.examples']) expect(labels).toContain(name);
  });

  test('fields of returned types (examples, tensors, scores, transitions) refuse bad arguments', async () => {
    expect(await runAll(nestedCases(schema))).toEqual([]);
  }, 600_000);

  test('mutations refuse bad arguments and change no registry', async () => {
    const before = { checkpoints: await t.app.services.warehouse.listCheckpoints(), probeSets: await t.app.services.warehouse.listProbeSets() };
    expect(await runAll(rootCases(schema.getMutationType(), 'mutation'))).toEqual([]);
    expect(await t.app.services.warehouse.listCheckpoints()).toEqual(before.checkpoints);
    expect(await t.app.services.warehouse.listProbeSets()).toEqual(before.probeSets);
  }, 600_000);

  test('queries refuse bad arguments', async () => {
    expect(await runAll(rootCases(schema.getQueryType(), 'query'))).toEqual([]);
  }, 600_000);
});
