/**
 * `frankenscope serve` as its own process (so a test can SIGKILL it), on
 * a given warehouse, with or without a queue, and a GraphQL client for it.
 * It registers the shipped demo models (demo/base, demo/sft, demo/rl) and
 * probe sets (demo/pairs, demo/questions) at start.
 */
import { track, tsx, type Child } from './units/processes.js';

export interface ServerChild extends Child {
  url: string;
  /** POSTs an operation; throws on a GraphQL error */
  query<T = Record<string, unknown>>(document: string, variables?: Record<string, unknown>): Promise<T>;
}

export async function startServerProcess(options: { warehouse: string; redisUrl?: string; env?: NodeJS.ProcessEnv }): Promise<ServerChild> {
  const env: NodeJS.ProcessEnv = {
    FRANKENSCOPE_WAREHOUSE: options.warehouse,
    FRANKENSCOPE_LAKE: 'off',
    FRANKENSCOPE_ENGINE_THREADS: '1',
    PORT: '0',
    HOST: '127.0.0.1',
    // empty: no queue, whatever the test runner's environment says
    FRANKENSCOPE_REDIS_URL: options.redisUrl ?? '',
    ...options.env,
  };
  const child = track(tsx(['src/cli.ts', 'serve'], env));
  await child.waitForText('/graphql', 120_000);
  const url = /GraphQL at (\S+)/.exec(child.output())![1]!;
  return {
    ...child,
    url,
    async query<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: document, variables }) });
      const body = (await response.json()) as { data?: T; errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}\nserver log:\n${child.output().slice(-4000)}`);
      return body.data!;
    },
  };
}

/**
 * Every row of every result table (a base table with a `run_id` column,
 * staged units excepted), run ids replaced by the run's cache key (the same
 * in any warehouse for the same request and inputs), sorted: what two
 * warehouses that ran the same requests must agree on, by table.
 */
export async function resultRows(server: ServerChild): Promise<Record<string, unknown>> {
  const sql = async (query: string) => {
    const { sql: result } = await server.query<{ sql: { rows: unknown[]; truncated: boolean } }>(`query($q: String!) { sql(query: $q, maxRows: 10000) { rows truncated } }`, { q: query });
    if (result.truncated) throw new Error(`more than 10000 rows: ${query}`);
    return result.rows;
  };
  const tables = await sql(
    `SELECT c.table_name AS name FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.column_name = 'run_id' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'run_units' ORDER BY 1`,
  );
  const rows: Record<string, unknown> = {};
  for (const table of tables) {
    const name = tableName(table);
    rows[name] = await sql(`SELECT r.kind, r.cache_key, x.* EXCLUDE (run_id) FROM "${name}" x JOIN runs r ON r.id = x.run_id ORDER BY ALL`);
  }
  return rows;
}

function tableName(row: unknown): string {
  const name = Array.isArray(row) ? row[0] : (row as { name: unknown }).name;
  if (typeof name !== 'string' || !/^[a-z_]+$/.test(name)) throw new Error(`unexpected table name ${JSON.stringify(row)}`);
  return name;
}
