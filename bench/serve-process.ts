/**
 * A frankenscope server started through its real entry point
 * (bin/frankenscope.js serve) in a process group of its own, on a temporary
 * warehouse, with a planted trio registered beside the demo models, plus the
 * load tool (autocannon) around it. Shared by bench/serve-load.ts and the
 * load tests, which hold looser lines of the same measurement.
 */
import autocannon, { type Result as LoadResult } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePlantedTrio } from '../src/engine/fixtures/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface LoadFigures {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** transport errors, timeouts, non-2xx answers and bodies that differ from the expected one */
  errors: number;
}

export interface ServeProcess {
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  graphql(query: string): Promise<any>;
  /** the exact response body of a query (what every later answer must equal) */
  rawBody(query: string): Promise<string>;
  /**
   * Keeps a characterization of the planted trio computing (a new topK each
   * time one finishes) until stop(); `started` resolves once the first runs.
   */
  keepCharacterizing(): { started: Promise<void>; stop(): Promise<void>; summary(): { analysesStarted: number; idleGapsMs: number } };
  close(): Promise<void>;
}

export interface ServeOptions {
  /** planted trio size: the analysis that runs while reads are measured; 0 for none */
  hidden?: number;
  layers?: number;
  /** extra environment for the server process */
  env?: Record<string, string>;
}

export async function startServeProcess(options: ServeOptions = {}): Promise<ServeProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'frankenscope-load-'));
  const hidden = options.hidden ?? 512;
  if (hidden > 0) await writePlantedTrio(join(dir, 'models', 'planted'), { dtype: 'BF16', hidden, intermediate: hidden * 4, numLayers: options.layers ?? 12 });
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'frankenscope.js'), 'serve'], {
    cwd: ROOT,
    // its own process group, so close() also ends the server bin/ spawns
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0', FRANKENSCOPE_WAREHOUSE: join(dir, 'warehouse.duckdb'), FRANKENSCOPE_MODEL_ROOTS: join(dir, 'models'), ...options.env },
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${out}${log}`)), 120_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /GraphQL at (\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}${log}`));
    });
  });
  const post = (query: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
  const graphql = async (query: string) => (await post(query)).json();
  for (const role of hidden > 0 ? ['base', 'sft', 'rl'] : []) {
    const r = await graphql(`mutation { registerCheckpoint(path: "planted/${role}") { id } }`);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
  }
  return {
    url,
    graphql,
    rawBody: async (query) => (await post(query)).text(),
    keepCharacterizing: () => keeper(graphql),
    close: () => stopProcess(child, dir),
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function keeper(graphql: (q: string) => Promise<any>) {
  let stopping = false;
  let analysesStarted = 0;
  let idleGapsMs = 0;
  let runId: string | undefined;
  let markStarted!: () => void;
  const started = new Promise<void>((r) => (markStarted = r));
  const loop = (async () => {
    for (let topK = 3; !stopping; topK++) {
      const r = await graphql(
        `{ characterization(base: "planted/base", sft: "planted/sft", rl: "planted/rl", options: { topK: ${topK} }, waitSeconds: 0) { run { id status } } }`,
      );
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      runId = r.data.characterization.run.id;
      analysesStarted++;
      markStarted();
      for (;;) {
        await new Promise((res) => setTimeout(res, 100));
        const s = await graphql(`{ run(id: "${runId}") { status } }`);
        if (s.data?.run?.status !== 'RUNNING') break;
        if (stopping) return;
      }
      // the poll interval is the most a gap between two analyses can last
      idleGapsMs += 100;
    }
  })();
  return {
    started,
    async stop() {
      stopping = true;
      await loop;
      if (runId) await graphql(`mutation { cancelRun(id: "${runId}") { status } }`).catch(() => undefined);
    },
    summary: () => ({ analysesStarted, idleGapsMs }),
  };
}

async function stopProcess(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.pid !== undefined) {
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}

/** `amount` POSTs of one query over `connections` connections; every body must equal `expectBody`. */
export async function runLoad(url: string, query: string, expectBody: string, connections: number, amount: number): Promise<LoadFigures> {
  const started = performance.now();
  let lastAnswer = started;
  const result = await new Promise<LoadResult>((resolveRun, reject) => {
    const run = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
        connections,
        amount,
        expectBody,
        timeout: 30,
      },
      (error, finished) => (error ? reject(error) : resolveRun(finished)),
    );
    run.on('response', () => (lastAnswer = performance.now()));
  });
  return {
    requests: result.requests.total,
    // up to the last answer: autocannon notices that `amount` is reached on its 1 s tick, so its duration (and the call's) is whole seconds
    reqPerSec: Math.round(result.requests.total / ((lastAnswer - started) / 1000)),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx + (result.mismatches ?? 0),
  };
}
