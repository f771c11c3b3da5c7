import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_OPERATION_LIMITS, loadConfig, type AppConfig } from '../../src/config.js';
import { writePlantedTrio } from '../../src/engine/fixtures/index.js';
import { measureOperation } from '../../src/http/operation-limits.js';
import { buildAppSchema } from '../../src/resolvers/build-schema.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { knownOperations, requiredVariables } from './known-operations.js';

const LIMIT_CODES = ['TOO_MANY_TOKENS', 'QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'QUERY_TOO_COSTLY'];
const TRIO = 'base: "demo/base", sft: "demo/sft", rl: "demo/rl"';

let dir: string;
let config: AppConfig;
let server: RunningServer;

interface Reply {
  status: number;
  ms: number;
  json: any;
}

async function post(url: string, query: string, variables?: Record<string, unknown>): Promise<Reply> {
  const started = performance.now();
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const json = await res.json().catch(() => null);
  return { status: res.status, ms: performance.now() - started, json };
}

const code = (r: Reply) => r.json?.errors?.[0]?.extensions?.code;
const aliases = (n: number, field: string) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** `{ checkpoints { id } }`, sent again and again while `heavy` is in flight: the slowest answer. */
async function slowestLightAnswer(heavy: Promise<Reply>): Promise<{ heavy: Reply; slowestMs: number; answers: number }> {
  let done = false;
  const settled = heavy.finally(() => (done = true));
  let slowestMs = 0;
  let answers = 0;
  do {
    const light = await post(server.url, '{ checkpoints { id } }');
    expect(light.status).toBe(200);
    expect(light.json.data.checkpoints).toHaveLength(3);
    slowestMs = Math.max(slowestMs, light.ms);
    answers++;
  } while (!done);
  return { heavy: await settled, slowestMs, answers };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'frankenscope-limits-'));
  await writePlantedTrio(join(dir, 'models', 'planted'), { dtype: 'F32' });
  config = { ...loadConfig({}), port: 0, warehousePath: join(dir, 'w.duckdb'), modelRoots: [join(dir, 'models')], demoDir: join(dir, 'models', 'planted'), demoProbesDir: join(dir, 'none') };
  server = await startServer(config);
  // the characterization below is cached: a refusal is about the request, not a computation
  const done = await post(server.url, `{ characterization(${TRIO}, waitSeconds: 120) { status } }`);
  expect(done.json.data.characterization.status).toBe('DONE');
}, 180_000);

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('operation limits', () => {
  test("the dashboard's, the client's, the CLI's and the README's operations stay well under every limit", async () => {
    const schema = await buildAppSchema();
    const ops = knownOperations();
    expect(ops.filter((o) => o.name.startsWith('dashboard')).length).toBeGreaterThanOrEqual(10);
    expect(ops.filter((o) => o.name.startsWith('README')).length).toBeGreaterThanOrEqual(2);
    const limits = DEFAULT_OPERATION_LIMITS;
    for (const op of ops) {
      const size = measureOperation(schema, op.source, requiredVariables(schema, op.source));
      // what the browser and the README send gets a quarter; one sql (the CLI) or a full 1000-row page of spectra (the client) half
      const share = op.name.startsWith('dashboard') || op.name.startsWith('README') ? 0.25 : 0.5;
      expect({ op: op.name, cost: size.cost <= limits.maxCost * share }).toEqual({ op: op.name, cost: true });
      expect({ op: op.name, tokens: size.tokens <= limits.maxTokens * share }).toEqual({ op: op.name, tokens: true });
      expect({ op: op.name, depth: size.depth <= limits.maxDepth / 2 }).toEqual({ op: op.name, depth: true });
      expect({ op: op.name, aliases: size.aliases }).toEqual({ op: op.name, aliases: 0 });
    }
  });

  test('a 1 MB document of 57,000 aliases is refused at parse time (TOO_MANY_TOKENS) and others keep being answered', async () => {
    const query = `{${Array.from({ length: 57_000 }, (_, i) => `a${i}:__typename`).join(' ')}}`;
    expect(query.length).toBeGreaterThan(900_000);
    expect(query.length).toBeLessThan(1 << 20);
    const { heavy, slowestMs } = await slowestLightAnswer(post(server.url, query));
    expect(heavy.status).toBe(400);
    expect(code(heavy)).toBe('TOO_MANY_TOKENS');
    expect(heavy.json.errors[0].message).toMatch(/more than 2000 tokens.*FRANKENSCOPE_MAX_TOKENS/);
    expect(heavy.json.data).toBeUndefined();
    // before the limit: 4.7 s for the refusal-free answer, 4.2 s for a concurrent light query (2-core machine)
    expect(heavy.ms).toBeLessThan(1500);
    expect(slowestMs).toBeLessThan(1500);
  });

  test('1000 aliases of a cached characterization are refused, and others keep being answered', async () => {
    const field = `characterization(${TRIO}, waitSeconds: 0) { status layers { index sft { froNorm singularValues } rl { froNorm singularValues } } }`;
    const { heavy, slowestMs } = await slowestLightAnswer(post(server.url, aliases(1000, field)));
    expect(heavy.status).toBe(400);
    expect(LIMIT_CODES).toContain(code(heavy));
    expect(heavy.ms).toBeLessThan(1500);
    expect(slowestMs).toBeLessThan(1500);
  });

  test('more than 15 aliases: TOO_MANY_ALIASES (even of __typename), 15 pass', async () => {
    const over = await post(server.url, aliases(16, 'checkpoints { id }'));
    expect(over.status).toBe(400);
    expect(code(over)).toBe('TOO_MANY_ALIASES');
    expect(over.json.errors[0].extensions.limit).toBe(15);
    expect(over.json.errors[0].message).toBe('Aliases limit of 15 exceeded, found 16.');
    expect(code(await post(server.url, aliases(16, '__typename')))).toBe('TOO_MANY_ALIASES');
    const ok = await post(server.url, aliases(15, 'checkpoints { id }'));
    expect(ok.status).toBe(200);
    expect(ok.json.data.a14).toHaveLength(3);
  });

  test('sql is expensive: two statements in one request pass, three are refused before any runs (QUERY_TOO_COSTLY)', async () => {
    const sql = 'sql(query: "SELECT 42 AS answer") { rows }';
    const two = await post(server.url, aliases(2, sql));
    expect(two.json.errors).toBeUndefined();
    expect(two.json.data.a1.rows).toEqual([[42]]);
    const three = await post(server.url, aliases(3, sql));
    expect(three.status).toBe(400);
    expect(code(three)).toBe('QUERY_TOO_COSTLY');
    expect(three.json.errors[0].extensions.limit).toBe(1000);
    expect(three.json.errors[0].message).toMatch(/estimated cost 1206 exceeds the limit of 1000 \(FRANKENSCOPE_MAX_COST\)/);
    expect(three.json.data).toBeUndefined();
  });

  test('ten heavy sql statements in one request are refused at once and others keep being answered', async () => {
    const heavySql = 'sql(query: "SELECT count(*) FROM range(100000) a, range(100000) b WHERE a.range + b.range = 7") { rows }';
    const { heavy, slowestMs } = await slowestLightAnswer(post(server.url, aliases(10, heavySql)));
    expect(heavy.status).toBe(400);
    expect(code(heavy)).toBe('QUERY_TOO_COSTLY');
    expect(heavy.ms).toBeLessThan(1500);
    expect(slowestMs).toBeLessThan(1500);
  });

  test('ten characterizations are refused (QUERY_TOO_COSTLY), nine pass; the weight grows with the selection', async () => {
    const bare = `characterization(${TRIO}, waitSeconds: 0) { status }`;
    expect(code(await post(server.url, aliases(10, bare)))).toBe('QUERY_TOO_COSTLY');
    const nine = await post(server.url, aliases(9, bare));
    expect(nine.json.errors).toBeUndefined();
    expect(nine.json.data.a8.status).toBe('DONE');
    const withLayers = `characterization(${TRIO}, waitSeconds: 0) { status run { id status } layers { index cosine sft { froNorm relativeNorm effectiveRank } rl { froNorm relativeNorm effectiveRank } } }`;
    expect(code(await post(server.url, aliases(9, withLayers)))).toBe('QUERY_TOO_COSTLY');
    const one = await post(server.url, `{ ${withLayers} }`);
    expect(one.json.errors).toBeUndefined();
    expect(one.json.data.characterization.layers.length).toBeGreaterThan(0);
  });

  test('pages are priced by the rows asked for, from variables too', async () => {
    const page = `characterization(${TRIO}, waitSeconds: 0) { tensors(first: $first) { name sft { ...S } rl { ...S } } }`;
    const stats = 'fragment S on UpdateStats { froNorm froNormSum relativeNorm spectralNorm nuclearNorm stableRank effectiveRank conditionNumber logVolume singularValues }';
    const query = `query($first: Int) ${aliases(5, page)} ${stats}`;
    const small = await post(server.url, query, { first: 200 });
    expect(small.json.errors).toBeUndefined();
    expect(small.json.data.a4.tensors.length).toBeGreaterThan(0);
    // no `first` means the default page of 1000 rows
    for (const variables of [{ first: 1000 }, {}]) {
      const large = await post(server.url, query, variables);
      expect(code(large)).toBe('QUERY_TOO_COSTLY');
    }
  });

  test('refusals carry no stack trace and the server answers afterwards', async () => {
    const replies = await Promise.all([post(server.url, aliases(57_000, '__typename')), post(server.url, aliases(16, '__typename')), post(server.url, aliases(3, 'sql(query: "SELECT 1") { rows }'))]);
    expect(JSON.stringify(replies.map((r) => r.json))).not.toMatch(/stacktrace|\.ts:\d+|at .*\(/);
    // a syntax error is still Apollo's, with its position, not a limit
    const broken = await post(server.url, '{ checkpoints { id }');
    expect(broken.status).toBe(400);
    expect(code(broken)).toBe('GRAPHQL_PARSE_FAILED');
    expect((await post(server.url, '{ checkpoints { id } }')).json.data.checkpoints).toHaveLength(3);
  });

  test('limits come from the environment; a bad value stops the start with its name', () => {
    expect(loadConfig({}).limits).toEqual({ maxTokens: 2000, maxDepth: 10, maxAliases: 15, maxCost: 1000 });
    expect(loadConfig({ FRANKENSCOPE_MAX_TOKENS: '500', FRANKENSCOPE_MAX_DEPTH: '4', FRANKENSCOPE_MAX_ALIASES: '3', FRANKENSCOPE_MAX_COST: '5000' }).limits).toEqual({
      maxTokens: 500,
      maxDepth: 4,
      maxAliases: 3,
      maxCost: 5000,
    });
    expect(() => loadConfig({ FRANKENSCOPE_MAX_COST: 'lots' })).toThrow(/FRANKENSCOPE_MAX_COST must be a positive integer, got 'lots'/);
    expect(() => loadConfig({ FRANKENSCOPE_MAX_DEPTH: '0' })).toThrow(/FRANKENSCOPE_MAX_DEPTH/);
  });

  test('configured limits apply: a tighter server refuses depth and cost the default one accepts', async () => {
    const tight = await startServer({ ...config, warehousePath: join(dir, 'tight.duckdb'), demoDir: join(dir, 'none'), limits: { maxTokens: 40, maxDepth: 3, maxAliases: 1, maxCost: 20 } });
    try {
      const deep = await post(tight.url, '{ characterization(base: "a", sft: "b", rl: "c") { layers { sft { froNorm } } } }');
      expect(code(deep)).toBe('QUERY_TOO_DEEP');
      expect(deep.json.errors[0].message).toBe('Query depth limit of 3 exceeded, found 4.');
      expect(code(await post(tight.url, '{ a: checkpoints { id } b: checkpoints { id } }'))).toBe('TOO_MANY_ALIASES');
      expect(code(await post(tight.url, '{ runs(first: 1000) { id status kind } }'))).toBe('QUERY_TOO_COSTLY');
      expect(code(await post(tight.url, `{ checkpoints { id ${'name '.repeat(40)}} }`))).toBe('TOO_MANY_TOKENS');
      expect((await post(tight.url, '{ checkpoints { id } }')).status).toBe(200);
    } finally {
      await tight.close();
    }
  }, 60_000);
});
