/**
 * Runtime configuration from the environment. Defaults are relative to the
 * package root so `npx frankenscope` finds the shipped demo data from any
 * working directory; values given in the environment are relative to the cwd.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIN_TOKEN_LENGTH } from './http/bearer-token.js';
import { parseHostHeader } from './http/host-guard.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Per-operation limits of the GraphQL endpoint (src/http/operation-limits.ts). */
export interface OperationLimits {
  /** lexical tokens in the document (FRANKENSCOPE_MAX_TOKENS) */
  maxTokens: number;
  /** nested field levels, fragments flattened (FRANKENSCOPE_MAX_DEPTH) */
  maxDepth: number;
  /** aliased fields in one operation (FRANKENSCOPE_MAX_ALIASES) */
  maxAliases: number;
  /** estimated cost, see src/http/operation-cost.ts (FRANKENSCOPE_MAX_COST) */
  maxCost: number;
}

/**
 * The dashboard's largest operation stays under a quarter of each (a test
 * keeps it so); three `sql` fields, or twenty analyses, do not fit.
 */
export const DEFAULT_OPERATION_LIMITS: Readonly<OperationLimits> = {
  maxTokens: 2000,
  maxDepth: 10,
  maxAliases: 15,
  maxCost: 1000,
};

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
  /** required as `Authorization: Bearer` on /graphql when set; a non-loopback HOST needs one (FRANKENSCOPE_TOKEN) */
  token: string | null;
  /** names besides localhost, loopback and HOST that requests may carry in Host (FRANKENSCOPE_ALLOWED_HOSTS, comma-separated) */
  allowedHosts: string[];
  limits: OperationLimits;
  /** NODE_ENV=production: no introspection, no schema details (field suggestions) in errors */
  production: boolean;
  /**
   * intra-op threads of the analysis workers (FRANKENSCOPE_ENGINE_THREADS); unset: every core for the
   * CLI's own work, and one core less when serving, so requests keep a core while an analysis computes
   */
  engineThreads: number | undefined;
  /** the work queue (FRANKENSCOPE_REDIS_URL): units of runs go to `frankenscope worker`s through it; unset, they run in this process */
  redisUrl: string | null;
  /** analysis threads run at a lower OS priority than the request thread (set when serving) */
  backgroundAnalyses?: boolean;
  /** the Parquet lake folder (FRANKENSCOPE_LAKE); unset: beside the warehouse file (lakeRoot); null ('off'): none */
  lakePath?: string | null;
}

/** Where the Parquet lake of `config`'s warehouse goes, or null for none (switched off, or an in-memory warehouse). */
export function lakeRoot(config: Pick<AppConfig, 'lakePath' | 'warehousePath'>): string | null {
  if (config.lakePath !== undefined) return config.lakePath;
  if (config.warehousePath === ':memory:') return null;
  // data/warehouse.duckdb (the default) has data/lake; any other file a lake of its own name, so two warehouses in one folder never mix
  const name = basename(config.warehousePath).replace(/\.duckdb$/, '');
  return join(dirname(config.warehousePath), name === 'warehouse' ? 'lake' : `${name}.lake`);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

function accessToken(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (raw.length < MIN_TOKEN_LENGTH || /\s/.test(raw)) {
    throw new RangeError(`FRANKENSCOPE_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters without spaces (e.g. the output of 'openssl rand -hex 24')`);
  }
  return raw;
}

function hostList(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!parseHostHeader(entry)) throw new RangeError(`FRANKENSCOPE_ALLOWED_HOSTS: '${entry}' is not a host name or host:port`);
  }
  return entries;
}

function redisUrl(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return null;
  if (!/^rediss?:\/\/[^\s]+$/.test(raw)) throw new RangeError(`FRANKENSCOPE_REDIS_URL must look like redis://host:port, got '${raw}'`);
  return raw;
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
    token: accessToken(env.FRANKENSCOPE_TOKEN),
    allowedHosts: hostList(env.FRANKENSCOPE_ALLOWED_HOSTS),
    limits: {
      maxTokens: positiveInt(env, 'FRANKENSCOPE_MAX_TOKENS', DEFAULT_OPERATION_LIMITS.maxTokens),
      maxDepth: positiveInt(env, 'FRANKENSCOPE_MAX_DEPTH', DEFAULT_OPERATION_LIMITS.maxDepth),
      maxAliases: positiveInt(env, 'FRANKENSCOPE_MAX_ALIASES', DEFAULT_OPERATION_LIMITS.maxAliases),
      maxCost: positiveInt(env, 'FRANKENSCOPE_MAX_COST', DEFAULT_OPERATION_LIMITS.maxCost),
    },
    production: env.NODE_ENV === 'production',
    redisUrl: redisUrl(env.FRANKENSCOPE_REDIS_URL),
    engineThreads: env.FRANKENSCOPE_ENGINE_THREADS ? positiveInt(env, 'FRANKENSCOPE_ENGINE_THREADS', 1) : undefined,
    lakePath: !env.FRANKENSCOPE_LAKE ? undefined : env.FRANKENSCOPE_LAKE === 'off' ? null : resolve(env.FRANKENSCOPE_LAKE),
  };
}
