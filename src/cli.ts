#!/usr/bin/env node
/** The frankenscope command line: `serve`, `characterize`, `sql`. */
import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { characterizeCommand } from './cli/characterize.command.js';
import { sqlCommand } from './cli/sql.command.js';
import { loadConfig } from './config.js';
import { startServer } from './server.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

function cuts(value: string): number[] {
  const parts = value.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new InvalidArgumentError(`expected two layer indices like '8,20', got '${value}'`);
  return parts;
}

const program = new Command();
program.name('frankenscope').description('Frankenstein-style analysis of what RL changes in vision-language models');

program
  .command('serve')
  .description('start the GraphQL server (registers the demo trio as demo/base, demo/sft, demo/rl)')
  .option('-p, --port <port>', 'port (default $PORT or 4000)')
  .action(async (opts: { port?: string }) => {
    const config = loadConfig(opts.port ? { ...process.env, PORT: opts.port } : process.env);
    const server = await startServer(config);
    console.log(`frankenscope serving GraphQL at ${server.url}`);
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('characterize')
  .description('update characterization of a Base / SFT (IN) / RL trio; results are stored in the warehouse')
  .requiredOption('--base <dir>', 'base checkpoint directory')
  .requiredOption('--sft <dir>', 'SFT (IN, cold start) checkpoint directory')
  .requiredOption('--rl <dir>', 'RL checkpoint directory')
  .option('--weight-filter <text>', "only tensors whose name contains this text (e.g. 'down_proj')")
  .option('--top-k <k>', 'singular values kept per tensor (default 50)', positiveInt)
  .option('--layer-cuts <a,b>', 'region cuts over 0-based LLM layers (default N/3, 2N/3)', cuts)
  .option('--json', 'print JSON instead of a table')
  .action(async (opts) => characterizeCommand(loadConfig(), opts));

program
  .command('sql')
  .description('run one read-only SQL statement on the warehouse (through the server if one holds it)')
  .argument('<query>', 'SELECT / WITH / DESCRIBE / SHOW / SUMMARIZE / EXPLAIN')
  .option('--max-rows <n>', 'row limit (default 1000)', positiveInt)
  .option('--json', 'print JSON')
  .action(async (query: string, opts: { maxRows?: number; json?: boolean }) => sqlCommand(loadConfig(), query, opts));

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`frankenscope: ${err.message}`);
  process.exit(1);
});
