/**
 * The size of libuv's threadpool. Every DuckDB statement (@duckdb/node-api),
 * every async fs call and every zlib/crypto job of this process and of its
 * worker threads holds one of these threads while it runs; libuv's default
 * of 4 lets four runaway SQL door queries stop the whole warehouse. libuv
 * reads UV_THREADPOOL_SIZE once, when the pool first starts, and under tsx
 * that is while the entry module itself is being loaded: setting it from
 * code is too late, so it must be in the environment the process starts
 * with (bin/frankenscope.js does that; `relaunchWithStartEnvironment`
 * covers `tsx src/cli.ts serve` or `worker` started directly).
 */
import { spawn } from 'node:child_process';

/** The pool the server asks for: room for the SQL door's slots, the warehouse's own statements, and file reads of running analyses. */
export const SERVER_THREADPOOL_SIZE = 16;

/** libuv's default when the variable is unset. */
const LIBUV_DEFAULT = 4;

/** The pool size this process runs with, as libuv reads the variable (1..1024). */
export function threadpoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 1024) : LIBUV_DEFAULT;
}

/**
 * Bytes from which glibc malloc maps each block on its own and unmaps it when
 * freed. glibc reads it once, at process start; its adaptive default lets
 * freed widened weight tensors fragment per-thread heaps that are never given
 * back (README, Memory: 9.0 GB against 6.6 GB peak for a 3B-shaped swap).
 * bin/frankenscope.js sets the same value.
 */
export const MALLOC_MMAP_THRESHOLD = 1 << 20;

/** What a long-lived process (server, queue worker) must start with, for what `env` lacks. */
function missingStartEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const missing: Record<string, string> = {};
  if (env.UV_THREADPOOL_SIZE === undefined) missing.UV_THREADPOOL_SIZE = String(SERVER_THREADPOOL_SIZE);
  if (env.MALLOC_MMAP_THRESHOLD_ === undefined) missing.MALLOC_MMAP_THRESHOLD_ = String(MALLOC_MMAP_THRESHOLD);
  return missing;
}

/**
 * When the process started without UV_THREADPOOL_SIZE or
 * MALLOC_MMAP_THRESHOLD_ (both read only at start), runs this same command
 * again in a child process that starts with them, forwards SIGINT/SIGTERM to
 * it and exits with its status; returns true then (the caller must do
 * nothing else). Returns false when both are set.
 */
export function relaunchWithStartEnvironment(): boolean {
  const missing = missingStartEnvironment(process.env);
  if (Object.keys(missing).length === 0) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...missing },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return true;
}
