/**
 * Runtime configuration from the environment. Defaults are relative to the
 * package root so `npx frankenscope` finds the shipped demo data from any
 * working directory; values given in the environment are relative to the cwd.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface AppConfig {
  port: number;
  host: string;
  /** DuckDB file (FRANKENSCOPE_WAREHOUSE) */
  warehousePath: string;
  /** directories checkpoints may be registered from (FRANKENSCOPE_MODEL_ROOTS, colon-separated) */
  modelRoots: string[];
  /** the trained demo models registered at start as demo/base, demo/sft, demo/rl and demo/rl-freeze-{early,middle,late} */
  demoDir: string;
  /** the demo probe sets registered at start as demo/pairs and demo/questions */
  demoProbesDir: string;
  /** where `frankenscope sql` finds a running server (FRANKENSCOPE_URL) */
  serverUrl: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = env.PORT ? Number(env.PORT) : 4000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`PORT must be an integer 0-65535, got '${env.PORT}'`);
  const host = env.HOST ?? '127.0.0.1';
  return {
    port,
    host,
    warehousePath: env.FRANKENSCOPE_WAREHOUSE
      ? (env.FRANKENSCOPE_WAREHOUSE === ':memory:' ? ':memory:' : resolve(env.FRANKENSCOPE_WAREHOUSE))
      : resolve(PACKAGE_ROOT, 'data/warehouse.duckdb'),
    modelRoots: env.FRANKENSCOPE_MODEL_ROOTS
      ? env.FRANKENSCOPE_MODEL_ROOTS.split(':').filter(Boolean).map((p) => resolve(p))
      : [resolve(PACKAGE_ROOT, 'data')],
    demoDir: resolve(PACKAGE_ROOT, 'data/demo'),
    demoProbesDir: resolve(PACKAGE_ROOT, 'data/probes'),
    serverUrl: env.FRANKENSCOPE_URL ?? `http://127.0.0.1:${port}/graphql`,
  };
}
