/**
 * `frankenscope sql`: reads the warehouse directly when no server holds it
 * (read-only), else sends the query through the running server's GraphQL
 * `sql` door, since DuckDB allows one writing process per file.
 */
import type { AppConfig } from '../config.js';
import { Warehouse, WarehouseError } from '../warehouse/index.js';
import { renderTable } from './format.js';

interface SqlAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
}

async function viaServer(config: AppConfig, query: string, maxRows?: number): Promise<SqlAnswer> {
  const response = await fetch(config.serverUrl, {
    method: 'POST',
    // a server reachable beyond loopback requires the token; the same FRANKENSCOPE_TOKEN opens it from here
    headers: { 'content-type': 'application/json', ...(config.token ? { authorization: `Bearer ${config.token}` } : {}) },
    body: JSON.stringify({
      query: 'query($q: String!, $n: Int) { sql(query: $q, maxRows: $n) { columns { name type } rows truncated } }',
      variables: { q: query, n: maxRows ?? null },
    }),
  });
  const body = (await response.json()) as { data?: { sql: SqlAnswer }; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) {
    const e = body.errors[0]!;
    throw new Error(`${e.extensions?.code ?? 'ERROR'}: ${e.message}`);
  }
  return body.data!.sql;
}

export async function sqlCommand(config: AppConfig, query: string, opts: { maxRows?: number; json?: boolean }): Promise<void> {
  let answer: SqlAnswer;
  let warehouse: Warehouse | undefined;
  try {
    warehouse = await Warehouse.open(config.warehousePath, { readOnly: true });
  } catch (err) {
    if (!(err instanceof WarehouseError && err.code === 'WAREHOUSE_LOCKED')) throw err;
  }
  if (warehouse) {
    try {
      answer = await warehouse.readOnlySql(query, { maxRows: opts.maxRows });
    } finally {
      warehouse.closeSync();
    }
  } else {
    answer = await viaServer(config, query, opts.maxRows);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(answer) + '\n');
    return;
  }
  process.stdout.write(renderTable(answer.columns.map((c) => c.name), answer.rows) + '\n');
  if (answer.truncated) process.stdout.write(`(truncated to ${answer.rows.length} rows)\n`);
}
